#!/usr/bin/env bash
# Server CPU per GiB for streams read at a fixed rate, as a player reads
# them, instead of as fast as loopback allows: N curl clients each read
# big.mp4 once at RATE, against nginx and vidserve in alternating rounds.
# CPU comes from /proc/PID/task/*/schedstat (nanoseconds, every thread),
# so one GiB is enough for a figure; the median of ROUNDS is reported.
#
#   benches/compare.sh first (it makes the 1 GiB file and nginx's config)
#   benches/paced.sh                        # 1 stream at 300 MB/s, 8 rounds
#   N=8 RATE=40M ROUNDS=6 benches/paced.sh  # 8 streams at 40 MB/s
#
# Everything runs on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${BENCH_DIR:-/tmp/vidserve-bench}
ROUNDS=${ROUNDS:-8}
N=${N:-1}
RATE=${RATE:-300M}
NGINX_PORT=${NGINX_PORT:-18080}
VS_PORT=${VS_PORT:-18081}
for f in "$WORK/media/big.mp4" "$WORK/nginx/nginx.conf"; do
  [ -f "$f" ] || { echo "missing $f: run benches/compare.sh once first" >&2; exit 1; }
done
command -v nginx >/dev/null || { echo "needs nginx: apt-get install -y nginx" >&2; exit 1; }
cargo build --profile dist --quiet
# From the disk into the page cache, as `compare.sh` does (large folios).
dd if="$WORK/media/big.mp4" iflag=nocache count=0 status=none
cat "$WORK/media/big.mp4" > /dev/null
BIN=target/dist/vidserve

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' 2>/dev/null &
pids+=($!)
rm -rf "$WORK/data-paced"
$BIN --dir "$WORK/media" --data "$WORK/data-paced" --bind 127.0.0.1:$VS_PORT --no-watch --log warn >/dev/null &
VS_PID=$!; pids+=($VS_PID)
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$VS_PORT/readyz" >/dev/null && break; sleep 0.1; done
for _ in $(seq 1 50); do curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$NGINX_PORT/big.mp4" && break; sleep 0.1; done
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | head -1)

cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {print s}'; }
GIB=$(awk -v s="$(stat -c %s "$WORK/media/big.mp4")" 'BEGIN {print s / 1073741824}')
# one PID URL -> CPU-s per GiB for N paced reads of the whole file
one() {
  cat "$WORK/media/big.mp4" > /dev/null   # the page cache trims itself here
  local before after
  before=$(cpu_ns "$1")
  for _ in $(seq 1 "$N"); do curl -sf --limit-rate "$RATE" -o /dev/null "$2" & done
  wait
  after=$(cpu_ns "$1")
  awk -v a="$after" -v b="$before" -v n="$N" -v g="$GIB" 'BEGIN {printf "%.4f", (a - b) / 1e9 / n / g}'
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
nv=(); vv=(); ratios=()
for r in $(seq 1 "$ROUNDS"); do
  # Alternate who goes first: the page cache and the host drift.
  if [ $((r % 2)) = 1 ]; then
    n=$(one "$NGINX_WORKER" "http://127.0.0.1:$NGINX_PORT/big.mp4"); v=$(one "$VS_PID" "http://127.0.0.1:$VS_PORT/video/big.mp4")
  else
    v=$(one "$VS_PID" "http://127.0.0.1:$VS_PORT/video/big.mp4"); n=$(one "$NGINX_WORKER" "http://127.0.0.1:$NGINX_PORT/big.mp4")
  fi
  nv+=("$n"); vv+=("$v"); ratios+=("$(awk -v a="$v" -v b="$n" 'BEGIN {printf "%.3f", a / b}')")
  echo "round $r: nginx $n, vidserve $v CPU-s/GiB"
done
echo
echo "| $N stream(s) at $RATE/s, median of $ROUNDS | nginx | vidserve | vidserve / nginx (median of rounds) |"
echo "|---|---|---|---|"
echo "| CPU-s per GiB | $(printf '%s\n' "${nv[@]}" | median) | $(printf '%s\n' "${vv[@]}" | median) | $(printf '%s\n' "${ratios[@]}" | median) |"
