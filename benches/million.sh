#!/usr/bin/env bash
# A big library end to end (1,000,000 synthetic videos by default): the
# first scan, RSS, gallery pages, a filtered listing and search (words never
# searched before, and with a typo) under load, then a restart from the
# stored index. wrk shares the machine's cores with the server.
#
#   benches/million.sh
#   N=300000 DURATION=5 benches/million.sh
#
# Loopback only; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/synthetic.sh
N=${N:-1000000}
LIB=${LIB:-/tmp/vidserve-bench-$N}
PORT=${PORT:-18720}
DURATION=${DURATION:-10}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
[ -n "${NO_BUILD:-}" ] || cargo build --profile dist --quiet
BIN=${BIN:-target/dist/vidserve}
synthetic_library "$N" "$LIB"
DATA=$(mktemp -d)
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DATA" "$WORK"; }
trap cleanup EXIT
PAGES=$(( N / 50 ))
. benches/loads.sh
gallery_lua "$WORK/gallery.lua" "$PAGES"
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$PID/status"; }
hwm() { awk '/VmHWM/ {print int($2/1024)}' "/proc/$PID/status"; }
start() {
  "$BIN" --dir "$LIB" --data "$DATA" --port "$PORT" --no-watch --log warn >/dev/null 2>&1 &
  PID=$!
  local t0 t1 t2
  t0=$(date +%s.%N)
  for _ in $(seq 12000); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.05; done
  t1=$(date +%s.%N)
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/"
  t2=$(date +%s.%N)
  echo "ready after $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, first page at $(awk -v a="$t0" -v b="$t2" 'BEGIN{printf "%.2f", b-a}') s"
}
load() { # label wrk-args...
  local label=$1; shift
  echo "== $label"
  wrk -t2 -c50 -d"${DURATION}s" --latency "$@" | grep -E 'Requests/sec|^ +50%|^ +99%'
}
echo "# $N videos, $(nproc) cores, $(date -u +%F)"
echo -n "first scan: "; start
sleep 20; echo "RSS after the first scan: $(rss) MiB (peak $(hwm) MiB)"
load "gallery pages, random sort and page" -s "$WORK/gallery.lua" "http://127.0.0.1:$PORT"
load "listing sorted by rating, min_rating=1" "http://127.0.0.1:$PORT/?sort=rating&min_rating=1"
load "search, a new number each request" -s benches/search.lua "http://127.0.0.1:$PORT"
TYPO=1 load "search, a typo and a new number" -s benches/search.lua "http://127.0.0.1:$PORT"
echo "RSS after the load: $(rss) MiB"
kill "$PID"; wait "$PID" 2>/dev/null || true
echo -n "restart: "; start
sleep 20; echo "RSS after the restart: $(rss) MiB (peak $(hwm) MiB)"
echo "index file: $(du -sh "$DATA/vidserve.redb" | cut -f1)"
