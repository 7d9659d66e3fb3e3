#!/usr/bin/env bash
# Remux against serving a file as stored, in the same run: a Matroska film
# (H.264 + AAC, made with ffmpeg) played through /play/{id}.mp4, the same
# packets in an MPEG-TS through /play/{id}.mp4, and in an MP4 (ffmpeg -c
# copy, faststart) through /video/{id}.
# Reports the first request's time (the plan: one pass over the file), the
# time to first byte of a seek into the middle, throughput and server CPU
# seconds per GiB over ROUNDS full fetches, and memory (RSS) taken by the plan.
#
#   benches/remux.sh                 # builds release, 180 s of 720p at 8 Mbit/s
#   SECONDS_OF_VIDEO=600 ROUNDS=5 NO_BUILD=1 benches/remux.sh
set -euo pipefail
cd "$(dirname "$0")/.."

LENGTH=${SECONDS_OF_VIDEO:-180}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18590}
WORK=$(mktemp -d)
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -n "${NO_BUILD:-}" ] || cargo build --profile dist --quiet
BIN=target/dist/vidserve

mkdir -p "$WORK/videos"
ffmpeg -v error -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=$LENGTH" -f lavfi -i "sine=f=440:d=$LENGTH" \
  -c:v libx264 -preset ultrafast -b:v 8M -g 50 -bf 2 -c:a aac -b:a 128k "$WORK/videos/film.mkv"
ffmpeg -v error -i "$WORK/videos/film.mkv" -c copy -movflags +faststart "$WORK/videos/same.mp4"
# The same packets in a transport stream (frames made from its packets when served).
ffmpeg -v error -i "$WORK/videos/film.mkv" -c copy -f mpegts "$WORK/videos/recording.ts"

"$BIN" --dir "$WORK/videos" --data "$WORK/data" --port "$PORT" --no-watch --log warn &
SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done

id_of() { curl -s "$BASE/api/v1/videos?q=$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["videos"][0]["id"])'; }
MKV=$(id_of film)
MP4=$(id_of same)
TS=$(id_of recording)
cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
TICKS=$(getconf CLK_TCK)

RSS0=$(rss)
FIRST=$(curl -s -o /dev/null -r 0-0 -w '%{time_total}' "$BASE/play/$MKV.mp4")
RSS1=$(rss)
LEN=$(curl -sI "$BASE/play/$MKV.mp4" | awk 'tolower($1)=="content-length:" {print $2}' | tr -d '\r')
MID=$((LEN / 2))
SEEK=$(curl -s -o /dev/null -r "$MID-$((MID + 1048575))" -w '%{time_starttransfer}' "$BASE/play/$MKV.mp4")
SEEK_FILE=$(curl -s -o /dev/null -r "$MID-$((MID + 1048575))" -w '%{time_starttransfer}' "$BASE/video/$MP4")

measure() { # url -> "MB/s cpu_s_per_GiB"
  local url=$1 c0 c1 t0 t1 bytes=0 n
  c0=$(cpu); t0=$(date +%s.%N)
  for _ in $(seq "$ROUNDS"); do
    n=$(curl -s -o /dev/null -w '%{size_download}' "$url")
    bytes=$((bytes + n))
  done
  t1=$(date +%s.%N); c1=$(cpu)
  python3 -c "b=$bytes; t=$t1-$t0; c=($c1-$c0)/$TICKS; print(f'{b/t/1e6:.0f} MB/s, {c/(b/2**30):.3f} CPU s/GiB')"
}
echo "first request (plan built): ${FIRST}s, plan memory: $(( (RSS1 - RSS0) / 1024 )) MiB, output $((LEN / 1048576)) MiB"
echo "seek into the middle, time to first byte: remux ${SEEK}s, as stored ${SEEK_FILE}s"
echo "remuxed   (/play): $(measure "$BASE/play/$MKV.mp4")"
curl -s -o /dev/null -r 0-0 "$BASE/play/$TS.mp4"
echo "remuxed TS (/play): $(measure "$BASE/play/$TS.mp4")"
echo "as stored (/video): $(measure "$BASE/video/$MP4")"
