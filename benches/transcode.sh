#!/usr/bin/env bash
# Transcoding in software (libx264, the server's settings): an MPEG-2 film
# with MP2 sound, 1080p and 720p, through /transcode/{id}.mp4.
# Reports the time to the first byte from the start and from the middle
# (what a seek costs), and the speed as a multiple of real time when the
# whole film is fetched as fast as the machine transcodes it (a player
# needs at least 1x), with ffmpeg's CPU seconds per second of film.
# Then the same through HLS (/transcode/{id}.m3u8): the time to segment 0,
# to a segment from the middle (a new run there), and every segment
# asked for in turn, as a player without Media Source does.
#
#   benches/transcode.sh                  # builds release, 60 s films
#   SECONDS_OF_VIDEO=120 NO_BUILD=1 benches/transcode.sh
set -euo pipefail
cd "$(dirname "$0")/.."

LENGTH=${SECONDS_OF_VIDEO:-60}
PORT=${PORT:-18591}
WORK=$(mktemp -d)
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -n "${NO_BUILD:-}" ] || cargo build --profile dist --quiet
BIN=${BIN:-target/dist/vidserve}

mkdir -p "$WORK/videos"
for size in 1920x1080 1280x720; do
  ffmpeg -v error -f lavfi -i "testsrc2=size=$size:rate=25:duration=$LENGTH" -f lavfi -i "sine=f=440:d=$LENGTH" \
    -c:v mpeg2video -b:v 12M -maxrate 15M -bufsize 2M -g 12 -c:a mp2 -b:a 192k "$WORK/videos/film-${size#*x}p.mpg"
done

"$BIN" --dir "$WORK/videos" --data "$WORK/data" --port "$PORT" --no-watch --log warn \
  --transcode-encoder software --max-transcodes 1 &
SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done

id_of() { curl -s "$BASE/api/v1/videos?q=$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["videos"][0]["id"])'; }
# CPU of the server's children (ffmpeg), in seconds, once they are reaped.
children_cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($16 + $17) / t}' "/proc/$SERVER/stat"; }

echo "software transcode (libx264 veryfast, crf 23, max 8000 kbit/s), ${LENGTH} s MPEG-2 films, $(nproc) CPUs"
for lines in 1080 720; do
  ID=$(id_of "film-${lines}p")
  FIRST=$(curl -s -o /dev/null -w '%{time_starttransfer}' --max-time 5 "$BASE/transcode/$ID.mp4?t=0" || true)
  sleep 0.5
  MIDDLE=$(curl -s -o /dev/null -w '%{time_starttransfer}' --max-time 5 "$BASE/transcode/$ID.mp4?t=$((LENGTH / 2))" || true)
  sleep 0.5
  C0=$(children_cpu)
  T0=$(date +%s.%N)
  BYTES=$(curl -s -o /dev/null -w '%{size_download}' "$BASE/transcode/$ID.mp4?t=0")
  T1=$(date +%s.%N)
  sleep 0.5
  C1=$(children_cpu)
  python3 -c "
t = $T1 - $T0
print(f'${lines}p: first byte {float(\"$FIRST\"):.2f} s from the start, {float(\"$MIDDLE\"):.2f} s from the middle; '
      f'{$LENGTH / t:.2f}x real time ({t:.1f} s for $LENGTH s), {($C1 - $C0) / $LENGTH:.2f} CPU s per s of film, '
      f'{$BYTES * 8 / $LENGTH / 1000:.0f} kbit/s out')"
  sleep 1
  H0=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/transcode/$ID/0.ts")
  HM=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/transcode/$ID/$((LENGTH / 12)).ts")
  SEGMENTS=$(curl -s "$BASE/transcode/$ID.m3u8" | grep -c '\.ts')
  C0=$(children_cpu)
  T0=$(date +%s.%N)
  for n in $(seq 0 $((SEGMENTS - 1))); do curl -sf -o /dev/null "$BASE/transcode/$ID/$n.ts"; done
  T1=$(date +%s.%N)
  sleep 1
  C1=$(children_cpu)
  python3 -c "
t = $T1 - $T0
print(f'${lines}p HLS: segment 0 after {float(\"$H0\"):.2f} s, one from the middle after {float(\"$HM\"):.2f} s; '
      f'all $SEGMENTS in turn at {$LENGTH / t:.2f}x real time, {($C1 - $C0) / $LENGTH:.2f} CPU s per s of film')"
done
