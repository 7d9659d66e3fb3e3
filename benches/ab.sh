#!/usr/bin/env bash
# Two builds of vidserve, same run, same files, same load generator (wrk),
# alternating rounds, medians and the ratio B/A: a gallery of 100,000
# videos, 64 KiB random ranges and whole-file streams of a 1 GiB file,
# with each server's CPU per GiB for the byte scenarios.
#
#   A=/path/to/old/vidserve B=target/dist/vidserve benches/ab.sh
#   DURATION=10 ROUNDS=5 A=... B=... benches/ab.sh
#
# Loopback only; every load is bounded by DURATION. Fixtures are shared
# with compare.sh (BENCH_DIR, /tmp/vidserve-bench by default).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${A:?A=path of the first build}" "${B:?B=path of the second build}"
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-5}
WORK=${BENCH_DIR:-/tmp/vidserve-bench}
PORT_A=${PORT_A:-18091}
PORT_B=${PORT_B:-18092}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 1; }

mkdir -p "$WORK/media"
[ -f "$WORK/media/big.mp4" ] || head -c 1073741824 /dev/urandom > "$WORK/media/big.mp4"
. benches/synthetic.sh
synthetic_library 100000 "$WORK/lib100k"
SIZE=$(stat -c %s "$WORK/media/big.mp4")
. benches/loads.sh
ranges_lua "$WORK/ab-ranges.lua" "$SIZE"
gallery_lua "$WORK/ab-gallery.lua" 2084

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_ready() { for _ in $(seq 1 1200); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done; echo "port $1 not ready" >&2; exit 1; }
start() { # BIN PORT DIR DATA -> STARTED (its pid)
  rm -rf "$4"
  "$1" --dir "$3" --data "$4" --bind "127.0.0.1:$2" --no-watch --log warn >/dev/null &
  STARTED=$!
  pids+=($STARTED)
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# run PID URL WRK-ARGS... -> R_VALUE (req/s, or GiB/s with GIB=1), R_CPU (CPU-s per GiB)
run() {
  local pid=$1 url=$2; shift 2
  case "$url" in *big.mp4) cat "$WORK/media/big.mp4" > /dev/null ;; esac
  local before after out gib
  before=$(cpu_ticks "$pid")
  out=$(wrk -d "${DURATION}s" "$@" "$url")
  after=$(cpu_ticks "$pid")
  gib=$(awk '/ read$/ || / read/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /read/) {v=$i; u=substr(v, length(v)-1); n=v+0; if (u=="MB") n/=1024; else if (u=="KB") n/=1048576; else if (u=="TB") n*=1024; print n; exit}}' <<<"$out")
  if [ -n "${GIB:-}" ]; then
    R_VALUE=$(awk -v g="$gib" -v d="$DURATION" 'BEGIN { printf "%.2f", g / d }')
  else
    R_VALUE=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  fi
  R_CPU=$(awk -v b="$before" -v a="$after" -v t="$TICKS" -v g="$gib" 'BEGIN { if (g > 0) printf "%.3f", (a - b) / t / g; else print "-" }')
}
scenario() { # LABEL PID_A URL_A PID_B URL_B WRK-ARGS...
  local label=$1 pa=$2 ua=$3 pb=$4 ub=$5; shift 5
  local av=() bv=() ac=() bc=()
  for _ in $(seq 1 "$ROUNDS"); do
    run "$pa" "$ua" "$@"; av+=("$R_VALUE"); ac+=("$R_CPU")
    run "$pb" "$ub" "$@"; bv+=("$R_VALUE"); bc+=("$R_CPU")
  done
  local a b
  a=$(printf '%s\n' "${av[@]}" | median); b=$(printf '%s\n' "${bv[@]}" | median)
  echo "| $label | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.3f", b / a; else print "-" }') | $(printf '%s\n' "${ac[@]}" | median) | $(printf '%s\n' "${bc[@]}" | median) | [$(IFS=' '; echo "${av[*]}")] [$(IFS=' '; echo "${bv[*]}")] |"
}

echo "# A: $A"
echo "# B: $B"
echo "# $(date -u +%F), $(nproc) cores, $(uname -r), median of $ROUNDS alternating runs of ${DURATION}s"
echo
echo "| scenario | A | B | B/A | A CPU-s/GiB | B CPU-s/GiB | runs A, B |"
echo "|---|---|---|---|---|---|---|"
start "$A" "$PORT_A" "$WORK/media" "$WORK/ab-data-a"; PA=$STARTED
start "$B" "$PORT_B" "$WORK/media" "$WORK/ab-data-b"; PB=$STARTED
wait_ready "$PORT_A"; wait_ready "$PORT_B"
VA="http://127.0.0.1:$PORT_A/video/big.mp4"; VB="http://127.0.0.1:$PORT_B/video/big.mp4"
GIB=1 scenario "1 stream (GiB/s)" "$PA" "$VA" "$PB" "$VB" -t1 -c1
GIB=1 scenario "50 streams (GiB/s)" "$PA" "$VA" "$PB" "$VB" -t2 -c50
scenario "64 KiB random ranges, 50 conns (req/s)" "$PA" "$VA" "$PB" "$VB" -t2 -c50 -s "$WORK/ab-ranges.lua"
kill "$PA" "$PB"; wait "$PA" "$PB" 2>/dev/null || true
start "$A" "$PORT_A" "$WORK/lib100k" "$WORK/ab-data-a"; PA=$STARTED
start "$B" "$PORT_B" "$WORK/lib100k" "$WORK/ab-data-b"; PB=$STARTED
wait_ready "$PORT_A"; wait_ready "$PORT_B"
scenario "gallery pages, 100k videos, 50 conns (req/s)" "$PA" "http://127.0.0.1:$PORT_A" "$PB" "http://127.0.0.1:$PORT_B" \
  -t2 -c50 -s "$WORK/ab-gallery.lua"
echo
echo "RSS after the gallery runs: A $(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PA/status") MiB, B $(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PB/status") MiB"
