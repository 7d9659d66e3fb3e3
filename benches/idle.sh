#!/usr/bin/env bash
# Idle disks: system calls naming a path under the media folder while the
# server sits idle, with notifications (folders never polled) and with
# --no-watch (polled every --cache-ttl). Uses strace; a short cache-ttl
# shows in seconds what a default one would do in minutes.
#
#   benches/idle.sh                     # IDLE=60 TTL=10 by default
#
# Loopback only; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${IDLE:-60}
TTL=${TTL:-10}
WORK=${BENCH_DIR:-/tmp/vidserve-idle}
command -v strace >/dev/null || { echo "needs strace: apt-get install -y strace" >&2; exit 1; }
[ -n "${NO_BUILD:-}" ] || cargo build --profile dist --quiet
BIN=$PWD/target/dist/vidserve
mkdir -p "$WORK"
[ -d "$WORK/media" ] || cargo bench --quiet --bench library -- --make "$WORK/media" 200
MEDIA=$(cd "$WORK/media" && pwd)

count() {
  local label=$1; shift
  rm -rf "$WORK/data-$label"
  strace -f -qq -e trace=%file -o "$WORK/trace-$label" \
    "$BIN" --dir "$MEDIA" --data "$WORK/data-$label" --bind 127.0.0.1:0 --cache-ttl "$TTL" --ffmpeg /no/ffmpeg "$@" >/dev/null 2>&1 &
  local pid=$!
  # Idle from when the first scan and the thumbnails are done: the trace
  # stops growing.
  local before=-1 now=0
  for _ in $(seq 60); do
    sleep 3
    now=$(grep -c "$MEDIA" "$WORK/trace-$label" || true)
    [ "$now" = "$before" ] && break
    before=$now
  done
  sleep "$IDLE"
  local after; after=$(grep -c "$MEDIA" "$WORK/trace-$label" || true)
  pkill -f -- "--data $WORK/data-$label" || true
  wait "$pid" 2>/dev/null || true
  echo "| $label | $((after - before)) |"
}

echo "| $IDLE s idle, --cache-ttl $TTL | system calls naming a path under the media folder |"
echo "|---|---|"
count "notified"
count "--no-watch" --no-watch
