#!/usr/bin/env bash
# Peak memory of /play on a crafted MP4 (3.6 kB; its sample table claims
# three million one-byte frames): the server's VmHWM before and after
# three requests.   benches/trust/crafted_play.sh BINARY [PORT]
set -euo pipefail
BIN=$1; PORT=${2:-18302}
D=$(mktemp -d); mkdir "$D/v"
ffmpeg -loglevel error -y -f lavfi -i testsrc=size=64x48:rate=10 -t 2 -c:v libx264 -pix_fmt yuv420p "$D/good.mp4"
python3 - "$D/good.mp4" "$D/v/crafted.mp4" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
box = lambda tag: d.find(tag) - 4
struct.pack_into('>II', d, box(b'stsz') + 12, 1, 3_000_000)            # every frame 1 byte, 3 M of them
struct.pack_into('>III', d, box(b'stts') + 12, 1, 3_000_000, 1)        # one run of 3 M durations
struct.pack_into('>IIII', d, box(b'stsc') + 12, 1, 1, 3_000_000, 1)    # one chunk of 3 M frames
open(sys.argv[2], 'wb').write(d)
PY
"$BIN" --dir "$D/v" --data "$D/data" --bind "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
ID=$(curl -s "http://127.0.0.1:$PORT/api/v1/videos" | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
H0=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
for i in 1 2 3; do
  echo "play $i: $(curl -s -o /dev/null -w '%{http_code} in %{time_total} s' "http://127.0.0.1:$PORT/play/$ID.mp4")"
done
echo "$BIN: peak RSS ${H0} kB before /play, $(awk '/VmHWM/ {print $2}' /proc/$PID/status) kB after"
