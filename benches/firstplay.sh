#!/usr/bin/env bash
# A large Matroska film's (or, with FORMAT=ts, the same packets in an
# MPEG-TS recording's) first play, seek and restart, evicted from the
# page cache: bytes the server read from disk (/proc/PID/io) and time to
# the first byte of /play/ID.mp4.
#   benches/firstplay.sh [BINARY]      (default: the dist build)
#   FORMAT=ts benches/firstplay.sh
# Last, a first play before the tables are read (--no-background-reads):
# the page's stream copy (/transcode/ID.mp4?copy=1), its first MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/dist/vidserve}
[ -x "$BIN" ] || cargo build --profile dist --quiet
FORMAT=${FORMAT:-mkv}
W=/tmp/vidserve-bench/firstplay; mkdir -p "$W/lib" "$W/films"
if [ ! -f "$W/films/film.mkv" ]; then   # 928 MB: H.264 720p at 30 Mbit/s + AAC, 400 s
  ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t 100 -c:v libx264 -preset ultrafast -b:v 30M -maxrate 30M -bufsize 60M -g 60 -c:a aac -shortest "$W/part.mkv"
  printf "file 'part.mkv'\n%.0s" 1 2 3 4 > "$W/list.txt"
  ffmpeg -loglevel error -y -f concat -safe 0 -i "$W/list.txt" -c copy "$W/films/film.mkv"; rm "$W/part.mkv"
fi
if [ "$FORMAT" = ts ] && [ ! -f "$W/films/film.ts" ]; then
  ffmpeg -loglevel error -y -i "$W/films/film.mkv" -c copy -f mpegts "$W/films/film.ts"
fi
rm -f "$W"/lib/*; ln "$W/films/film.$FORMAT" "$W/lib/film.$FORMAT"
rm -rf "$W/data"
evict() { python3 -c "import os,sys; fd=os.open(sys.argv[1],os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)" "$W/lib/film.$FORMAT"; }
start() { "$BIN" --dir "$W/lib" --data "$W/data" --bind 127.0.0.1:18701 --no-watch --log warn "$@" >/dev/null 2>&1 & P=$!
  until curl -sf 127.0.0.1:18701/readyz >/dev/null; do sleep 0.05; done; }
read_mb() { awk '/read_bytes/ {printf "%.1f", $2/1e6}' /proc/$P/io; }
play() { # RANGE
  local id before t0 first
  id=$(curl -sf 127.0.0.1:18701/api/v1/videos | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
  evict; before=$(read_mb)
  first=$(curl -s -o /dev/null -w '%{time_starttransfer}' -r "$1" "127.0.0.1:18701/play/$id.mp4")
  printf "  range %s: first byte after %.1f ms, %.1f MB read\n" "$1" "$(echo "$first * 1000" | bc)" "$(echo "$(read_mb) - $before" | bc)"
}
evict; start
t0=$(date +%s.%N)
until ls "$W"/data/plans/*.plan >/dev/null 2>&1; do sleep 0.1; done
echo "tables read in the background, kept $(echo "$(date +%s.%N) - $t0" | bc) s after ready; $(read_mb) MB read so far"
play 0-65535; play 500000000-500065535
kill $P; wait $P 2>/dev/null || true
evict; start; echo "after a restart:"; play 400000000-400065535
kill $P; wait $P 2>/dev/null || true
rm -rf "$W/data/plans"; mkdir -p "$W/data/plans"; chmod 000 "$W/data/plans"
evict; start; echo "with nothing kept (the plans folder unwritable: as before tables were kept):"; play 400000000-400065535
kill $P; wait $P 2>/dev/null || true; chmod 755 "$W/data/plans"

rm -rf "$W/data"; evict; start --no-background-reads
# Thumbnails and the preview strip are made first (their reads are not the play's).
settle() { until ls "$W"/data/thumbs/*sprite* >/dev/null 2>&1; do sleep 0.2; done; sleep 2; }
settle
echo "first play before the tables are read (--no-background-reads), the page's stream copy:"
copy() { # SECONDS: time to the first byte and bytes read (ffmpeg's too, once it is reaped) for the first MiB
  local id before first
  id=$(curl -sf 127.0.0.1:18701/api/v1/videos | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
  evict; before=$(read_mb)
  first=$(python3 - "$id" "$1" <<'PY'
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", 18701)
t0 = time.monotonic()
c.request("GET", f"/transcode/{sys.argv[1]}.mp4?t={sys.argv[2]}&copy=1")
r = r2 = c.getresponse(); first = r.read(1); ms = (time.monotonic() - t0) * 1000
got = 1
while got < 1 << 20:
    b = r.read(65536)
    if not b: break
    got += len(b)
c.close(); print(f"{ms:.1f}")
PY
)
  sleep 3   # the server stops ffmpeg and reaps it: its reads count as the server's
  printf "  from %s s: first byte after %s ms, %.1f MB read\n" "$1" "$first" "$(echo "$(read_mb) - $before" | bc)"
}
copy 0; copy 200
kill $P; wait $P 2>/dev/null || true
