#!/usr/bin/env bash
# vidserve against nginx (1 worker, sendfile) on loopback, same files, same
# load generator (wrk), same run. Prints a markdown table with ratios.
# A second nginx adds `aio threads`: its mode that, like vidserve, never
# lets a worker wait on the disk (plain nginx blocks inside sendfile on
# pages not in the page cache).
#
#   benches/compare.sh            # needs nginx and wrk: apt-get install nginx wrk
#   DURATION=10 ROUNDS=5 benches/compare.sh
#   STREAMS_ONLY=1 benches/compare.sh   # only the streaming and range table
#
# Everything runs on 127.0.0.1 only; every load is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WORK=${BENCH_DIR:-/tmp/vidserve-bench}
NGINX_PORT=${NGINX_PORT:-18080}
NGINX_AIO_PORT=${NGINX_AIO_PORT:-18086}
VS_PORT=${VS_PORT:-18081}
VS_PORT_100K=${VS_PORT_100K:-18082}
VS_COPY_PORT=${VS_COPY_PORT:-18083}
for tool in nginx wrk; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y nginx wrk" >&2; exit 1; }
done

cargo build --profile dist --quiet
cargo bench --no-run --quiet --bench library 2>/dev/null
BIN=target/dist/vidserve
mkdir -p "$WORK/media" "$WORK/nginx" "$WORK/nginx-aio"

# Fixtures, made once: a 1 GiB file of random bytes, 1k and 100k small videos.
[ -f "$WORK/media/big.mp4" ] || head -c 1073741824 /dev/urandom > "$WORK/media/big.mp4"
[ -n "${STREAMS_ONLY:-}" ] || [ -d "$WORK/lib1k" ] || cargo bench --quiet --bench library -- --make "$WORK/lib1k" 1000
[ -n "${STREAMS_ONLY:-}" ] || [ -d "$WORK/lib100k" ] || cargo bench --quiet --bench library -- --make "$WORK/lib100k" 100000
SIZE=$(stat -c %s "$WORK/media/big.mp4")
# Into the page cache the way a library's videos get there: dropped, then
# read from the disk (read-ahead builds it of large folios where the
# filesystem has them). A file just written stays in the small folios its
# writes made, and every server's `sendfile` walks twice as many entries
# (`benches/README.md`, "Large folios").
dd if="$WORK/media/big.mp4" iflag=nocache count=0 status=none
cat "$WORK/media/big.mp4" > /dev/null

cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
  sendfile on; access_log off; keepalive_requests 1000000;
  types { video/mp4 mp4; }
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/media; }
}
CONF
sed -e "s|$NGINX_PORT|$NGINX_AIO_PORT|; s|$WORK/nginx/nginx.pid|$WORK/nginx-aio/nginx.pid|" \
  -e "s|$WORK/nginx/error.log|$WORK/nginx-aio/error.log|; s|sendfile on;|sendfile on; aio threads;|" \
  "$WORK/nginx/nginx.conf" > "$WORK/nginx-aio/nginx.conf"
. benches/loads.sh
ranges_lua "$WORK/ranges.lua" "$SIZE"
gallery_lua "$WORK/gallery.lua" 2084

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' 2>/dev/null &
pids+=($!)
nginx -c "$WORK/nginx-aio/nginx.conf" -p "$WORK/nginx-aio" -g 'daemon off;' 2>/dev/null &
pids+=($!)
rm -rf "$WORK/data" "$WORK/data-copy" "$WORK/data1k" "$WORK/data100k"
$BIN --dir "$WORK/media" --data "$WORK/data" --bind 127.0.0.1:$VS_PORT --no-watch --log warn >/dev/null &
VS_PID=$!; pids+=($VS_PID)
# The same binary copying every chunk through memory (as before sendfile).
$BIN --dir "$WORK/media" --data "$WORK/data-copy" --bind 127.0.0.1:$VS_COPY_PORT --no-watch --no-sendfile --log warn >/dev/null &
VC_PID=$!; pids+=($VC_PID)
wait_ready() { for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done; echo "port $1 not ready" >&2; exit 1; }
wait_ready $VS_PORT
wait_ready $VS_COPY_PORT
for port in $NGINX_PORT $NGINX_AIO_PORT; do
  for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/big.mp4" -r 0-0 && break; sleep 0.1; done
done
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | head -1)
# Its CPU includes its thread pool's (the process's threads).
NGINX_AIO_WORKER=$(pgrep -P "$(cat "$WORK/nginx-aio/nginx.pid")" | head -1)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
TICKS=$(getconf CLK_TCK)

# Ticks of this shell's waited-for children: wrk's CPU, client side.
child_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
# run NAME PID URL WRK-ARGS... -> sets R_RPS R_GIB R_CPU (cpu-s per GiB),
# R_ALL (server and wrk together, cpu-s per GiB) R_P50 R_P99
run() {
  local pid=$1 url=$2; shift 2
  local before after out cbefore cafter
  # Warm again before every run: some hosts trim the page cache in the
  # background (here a few MiB of the file a minute, with 19 GiB free), and
  # an evicted page costs nginx a read inside sendfile and vidserve a copy.
  case "$url" in *big.mp4) cat "$WORK/media/big.mp4" > /dev/null ;; esac
  before=$(cpu_ticks "$pid"); cbefore=$(child_ticks)
  out=$(wrk --latency -d "${DURATION}s" "$@" "$url")
  after=$(cpu_ticks "$pid"); cafter=$(child_ticks)
  R_RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  R_GIB=$(awk '/read$/ || / read/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /read/) {v=$i; u=substr(v, length(v)-1); n=v+0; if (u=="GB") n*=1; else if (u=="MB") n/=1024; else if (u=="KB") n/=1048576; else if (u=="TB") n*=1024; print n; exit}}' <<<"$out")
  R_CPU=$(awk -v b="$before" -v a="$after" -v t="$TICKS" -v g="$R_GIB" 'BEGIN { if (g > 0) printf "%.3f", (a - b) / t / g; else print "-" }')
  # On loopback the receiving side's TCP work lands on whichever process
  # the kernel is running when a segment arrives: sender or receiver. The
  # sum of both is the figure that does not move with that accident.
  R_ALL=$(awk -v b="$before" -v a="$after" -v cb="$cbefore" -v ca="$cafter" -v t="$TICKS" -v g="$R_GIB" \
    'BEGIN { if (g > 0) printf "%.3f", (a - b + ca - cb) / t / g; else print "-" }')
  R_P50=$(awk '/^ +50%/ {print $2}' <<<"$out")
  R_P99=$(awk '/^ +99%/ {print $2}' <<<"$out")
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

echo "# vidserve vs nginx, $(date -u +%F), $(nproc) cores, $(uname -r), median of $ROUNDS runs of ${DURATION}s"
echo
echo "| scenario | nginx | nginx aio | vidserve | ratio | copying | CPU-s/GiB nginx | nginx aio | vidserve | copying |"
echo "|---|---|---|---|---|---|---|---|---|---|"
# Each scenario: ROUNDS alternating runs per server; the median is reported.
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
scenario() { # label metric(gib|rps) nginx-url nginx-aio-url vidserve-url copying-url wrk-args...
  local label=$1 metric=$2 nurl=$3 aurl=$4 vurl=$5 curl_=$6; shift 6
  local nv=() av=() vv=() cv=() nc=() ac=() vc=() cc=() nt=() at=() vt=() ct=()
  value() { if [ "$metric" = gib ]; then awk -v g="$R_GIB" -v d="$DURATION" 'BEGIN { printf "%.2f", g / d }'; else echo "$R_RPS"; fi; }
  for _ in $(seq 1 "$ROUNDS"); do
    run "$NGINX_WORKER" "$nurl" "$@"; nv+=("$(value)"); nc+=("$R_CPU"); nt+=("$R_ALL")
    run "$NGINX_AIO_WORKER" "$aurl" "$@"; av+=("$(value)"); ac+=("$R_CPU"); at+=("$R_ALL")
    run "$VS_PID" "$vurl" "$@"; vv+=("$(value)"); vc+=("$R_CPU"); vt+=("$R_ALL")
    run "$VC_PID" "$curl_" "$@"; cv+=("$(value)"); cc+=("$R_CPU"); ct+=("$R_ALL")
  done
  local n a v c
  n=$(printf '%s\n' "${nv[@]}" | median); a=$(printf '%s\n' "${av[@]}" | median)
  v=$(printf '%s\n' "${vv[@]}" | median); c=$(printf '%s\n' "${cv[@]}" | median)
  echo "| $label | $n | $a | $v | $(ratio "$v" "$n") | $c | $(printf '%s\n' "${nc[@]}" | median) | $(printf '%s\n' "${ac[@]}" | median) | $(printf '%s\n' "${vc[@]}" | median) | $(printf '%s\n' "${cc[@]}" | median) |"
  TOTALS+="| $label | $(printf '%s\n' "${nt[@]}" | median) | $(printf '%s\n' "${at[@]}" | median) | $(printf '%s\n' "${vt[@]}" | median) | $(printf '%s\n' "${ct[@]}" | median) |"$'\n'
}
TOTALS=""
NBIG="http://127.0.0.1:$NGINX_PORT/big.mp4"
ABIG="http://127.0.0.1:$NGINX_AIO_PORT/big.mp4"
VBIG="http://127.0.0.1:$VS_PORT/video/big.mp4"
CBIG="http://127.0.0.1:$VS_COPY_PORT/video/big.mp4"
scenario "1 stream (GiB/s)" gib "$NBIG" "$ABIG" "$VBIG" "$CBIG" -t1 -c1
scenario "50 streams (GiB/s)" gib "$NBIG" "$ABIG" "$VBIG" "$CBIG" -t2 -c50
scenario "64 KiB random ranges, 50 conns (req/s)" rps "$NBIG" "$ABIG" "$VBIG" "$CBIG" -t2 -c50 -s "$WORK/ranges.lua"
echo
echo "Server and wrk together, CPU-s per GiB (median):"
echo
echo "| scenario | nginx | nginx aio | vidserve | copying |"
echo "|---|---|---|---|---|"
printf '%s' "$TOTALS"
[ -n "${STREAMS_ONLY:-}" ] && exit 0
echo
echo "vidserve peak RSS over the streaming runs: $(( $(hwm_kib "$VS_PID") / 1024 )) MiB"

$BIN --dir "$WORK/lib1k" --data "$WORK/data1k" --bind 127.0.0.1:$VS_PORT_100K --no-watch --log warn >/dev/null &
P1K=$!; pids+=($P1K)
wait_ready $VS_PORT_100K; sleep 2
echo "vidserve idle RSS with 1,000 videos: $(( $(rss_kib "$P1K") / 1024 )) MiB"
kill "$P1K"; wait "$P1K" 2>/dev/null || true

$BIN --dir "$WORK/lib100k" --data "$WORK/data100k" --bind 127.0.0.1:$VS_PORT_100K --no-watch --log warn >/dev/null &
P100K=$!; pids+=($P100K)
t0=$(date +%s.%N); wait_ready $VS_PORT_100K; t1=$(date +%s.%N)
echo "vidserve cold start with 100,000 videos (first scan until ready): $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
sleep 2
echo "vidserve idle RSS with 100,000 videos: $(( $(rss_kib "$P100K") / 1024 )) MiB"
# Durable writes: 50 connections POST views to random videos (each answer
# means committed and fsynced); they also give the rating/views sorts data.
IDS=$(curl -sf "http://127.0.0.1:$VS_PORT_100K/api/v1/videos?per_page=500&sort=title" \
  | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4 | tr '\n' ' ')
writes_lua "$WORK/writes.lua" "$IDS"
run "$P100K" "http://127.0.0.1:$VS_PORT_100K/" -t2 -c50 -s "$WORK/writes.lua"
echo "durable writes (POST view), 50 conns, data dir on $(df --output=source "$WORK" | tail -1): $R_RPS req/s, p50 $R_P50, p99 $R_P99"
for id in $(echo "$IDS" | tr ' ' '\n' | head -50); do
  curl -sf -X PUT "http://127.0.0.1:$VS_PORT_100K/api/v1/videos/$id/favorite" >/dev/null
done

echo
echo "| gallery, 100,000 videos, 50 conns, random page | req/s | p50 | p99 |"
echo "|---|---|---|---|"
for q in "sort=added" "sort=title" "sort=size" "sort=duration" "sort=rating" "sort=views" \
         "sort=added&favorites=1" "sort=views&min_rating=1" "q=video" "q=video+01234"; do
  cat > "$WORK/one.lua" <<LUA
local orders = { "asc", "desc" }
request = function()
  return wrk.format("GET", "/?$q&order=" .. orders[math.random(2)] .. "&page=" .. math.random(1, 2084))
end
LUA
  run "$P100K" "http://127.0.0.1:$VS_PORT_100K/" -t2 -c50 -s "$WORK/one.lua"
  echo "| $q | $R_RPS | $R_P50 | $R_P99 |"
done
echo
echo "vidserve RSS with 100,000 videos after the load: $(( $(rss_kib "$P100K") / 1024 )) MiB"
kill "$P100K"; wait "$P100K" 2>/dev/null || true
$BIN --dir "$WORK/lib100k" --data "$WORK/data100k" --bind 127.0.0.1:$VS_PORT_100K --no-watch --log warn >/dev/null &
P100K=$!; pids+=($P100K)
t0=$(date +%s.%N); wait_ready $VS_PORT_100K; t1=$(date +%s.%N)
echo "vidserve restart with a stored index of 100,000 videos, until ready: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
