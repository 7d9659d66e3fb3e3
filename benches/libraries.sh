#!/usr/bin/env bash
# Each person's own libraries under load: gallery pages and searches at
# 100,000 videos for a viewer who sees half of them (a library of half the
# folders) against an admin, who sees all, on one server, same run, rounds
# alternating; 50 connections (wrk), every request carrying the person's
# API token. Prints req/s and p99 for each, and their ratio.
#
#   benches/libraries.sh
#   N=1000000 DURATION=10 ROUNDS=3 benches/libraries.sh
#
# Everything runs on 127.0.0.1 only; every load is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/synthetic.sh
. benches/loads.sh

N=${N:-100000}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18693}
LIB=${LIB:-/tmp/vidserve-bench/lib100k}
WORK=$(mktemp -d)
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }

[ -n "${NO_BUILD:-}" ] || cargo build --profile dist --quiet
BIN=target/dist/vidserve
synthetic_library "$N" "$LIB"

# Half of the folders make the library "Half".
mapfile -t folders < <(find "$LIB" -mindepth 1 -maxdepth 1 -type d | sort)
half=("${folders[@]:0:$(( ${#folders[@]} / 2 ))}")
$BIN library add Half "${half[@]}" --dir "$LIB" --data "$WORK/data" >/dev/null
echo "long enough" | $BIN user add ann --role admin --password-stdin --data "$WORK/data" >/dev/null
echo "long enough" | $BIN user add kid --libraries Half --password-stdin --data "$WORK/data" >/dev/null
ANN=$($BIN user token ann --data "$WORK/data")
KID=$($BIN user token kid --data "$WORK/data")

$BIN --dir "$LIB" --data "$WORK/data" --port "$PORT" --no-watch --log warn >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1200); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
total() { curl -sf -H "Authorization: Bearer $1" "http://127.0.0.1:$PORT/api/v1/videos?per_page=1" | grep -o '"total":[0-9]*' | cut -d: -f2; }
echo "admin sees $(total "$ANN") videos, the viewer $(total "$KID")"

PAGES=$(( N / 2 / 48 ))
gallery_lua "$WORK/gallery.lua" "$PAGES"
# One load: "req/s p99_ms".
load() { # script token
  wrk -t2 -c50 -d"${DURATION}s" --latency -H "Authorization: Bearer $2" -s "$1" "http://127.0.0.1:$PORT" |
    awk '/Requests\/sec/ {r=$2} /^ +99%/ {p=$2; if (p ~ /us$/) {sub(/us/,"",p); p/=1000} else if (p ~ /ms$/) {sub(/ms/,"",p)} else if (p ~ /s$/) {sub(/s/,"",p); p*=1000}} END {printf "%d %.2f\n", r, p}'
}
echo "| load (50 connections, best of $ROUNDS) | admin req/s | admin p99 | viewer of half req/s | viewer p99 | req/s ratio |"
echo "|---|---|---|---|---|---|"
for name in gallery search; do
  script=$WORK/gallery.lua
  [ $name = search ] && script=benches/search.lua
  : >"$WORK/a"; : >"$WORK/k"
  for _ in $(seq "$ROUNDS"); do
    load "$script" "$ANN" >>"$WORK/a"
    load "$script" "$KID" >>"$WORK/k"
  done
  best() { sort -n -k1 "$1" | tail -1; }
  read -r ar ap < <(best "$WORK/a")
  read -r kr kp < <(best "$WORK/k")
  echo "| $name | $ar | $ap ms | $kr | $kp ms | $(awk "BEGIN{printf \"%.2f\", $kr/$ar}") |"
done
