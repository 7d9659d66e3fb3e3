#!/usr/bin/env bash
# Memory and start-up: starts a server on a library with an empty data dir
# (the first scan), waits for /readyz, lets it settle and reads its RSS and
# peak; then restarts it from the stored index and does the same.
#
#   benches/rss.sh                                  # 100,000 synthetic videos
#   N=1000000 SETTLE=30 benches/rss.sh
#   BIN=/path/to/other/vidserve benches/rss.sh      # another build, same library
#
# Loopback only; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/synthetic.sh
N=${N:-100000}
LIB=${LIB:-/tmp/vidserve-bench-$N}
PORT=${PORT:-18700}
SETTLE=${SETTLE:-20}
if [ -z "${BIN:-}" ]; then
  cargo build --profile dist --quiet
  BIN=target/dist/vidserve
fi
synthetic_library "$N" "$LIB"
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT

measure() {
  "$BIN" --dir "$LIB" --data "$DATA" --port "$PORT" --no-watch --log warn >/dev/null 2>&1 &
  local pid=$! t0 t1
  t0=$(date +%s.%N)
  for _ in $(seq 6000); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.05; done
  t1=$(date +%s.%N)
  sleep "$SETTLE"
  echo "ready after $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s;" \
    "RSS $(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status") MiB;" \
    "peak $(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status") MiB"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}
echo "$N videos, $BIN"
echo -n "first start: "; measure
echo -n "restart:     "; measure
