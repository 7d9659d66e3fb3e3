#!/usr/bin/env bash
# Thumbnail pipeline benchmarks (needs ffmpeg, wrk): thumbnails per second
# for 100 short clips, time until a newly added file shows a thumbnail, and
# streaming throughput while the queue works (ratio with/without).
# Loopback only; every load is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${BENCH_DIR:-/tmp/vidserve-bench}/thumbs
PORT=${VS_PORT:-18083}
cargo build --profile dist --quiet
BIN=$PWD/target/dist/vidserve
mkdir -p "$WORK/clips" "$WORK/big"
if [ ! -f "$WORK/clips/clip099.mp4" ]; then
  for i in $(seq -w 0 99); do
    ffmpeg -v error -y -f lavfi -i "testsrc2=duration=10:size=640x360:rate=25" -c:v libx264 -preset ultrafast \
      -pix_fmt yuv420p -metadata comment="clip $i" "$WORK/clips/clip0$i.mp4"
  done
fi
[ -f "$WORK/big/big.mp4" ] || head -c 1073741824 /dev/urandom > "$WORK/big/big.mp4"
cat "$WORK/big/big.mp4" > /dev/null

rm -rf "$WORK/data"
start=$(date +%s.%N)
"$BIN" thumbnails --dir "$WORK/clips" --data "$WORK/data" --jobs 2 | tail -1
end=$(date +%s.%N)
echo "100 clips, 2 jobs: $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f s, %.1f thumbnails/s (with preview strips)", b - a, 100 / (b - a) }')"

# Time from adding a file to its thumbnail being served.
rm -rf "$WORK/data" "$WORK/live" && mkdir -p "$WORK/live"
"$BIN" --dir "$WORK/live" --dir "$WORK/big" --data "$WORK/data" --bind 127.0.0.1:$PORT --log warn >/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.1; done
sleep 1
t0=$(date +%s.%N)
cp "$WORK/clips/clip000.mp4" "$WORK/live/new.mp4"
until curl -sf "http://127.0.0.1:$PORT/api/v1/videos?q=new" | grep -q '"id"'; do sleep 0.02; done
ID=$(curl -sf "http://127.0.0.1:$PORT/api/v1/videos?q=new" | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/thumb/$ID/320"; do sleep 0.02; done
t1=$(date +%s.%N)
echo "added file to thumbnail served: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }')"

# Streaming with and without the queue at work.
rate() { wrk -t1 -c4 -d5s "http://127.0.0.1:$PORT/video/big.mp4" | awk '/Transfer\/sec/ {print $2}'; }
idle=$(rate)
cp "$WORK"/clips/clip0[1-9]*.mp4 "$WORK/live/"
sleep 1
busy=$(rate)
echo "4 streams of a 1 GiB file: idle $idle/s, while the queue makes thumbnails $busy/s"
