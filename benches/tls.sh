#!/usr/bin/env bash
# HTTPS streaming cost: vidserve over HTTPS (rustls) against nginx over
# HTTPS (OpenSSL) serving the same file with the same certificate, and
# vidserve over plain HTTP, on loopback in the same run. Also the time of a
# full TLS handshake (a new connection each request). Prints markdown.
#
#   benches/tls.sh                       # needs nginx, wrk, openssl
#   BIN=target/x86_64-unknown-linux-gnu/dist/vidserve DURATION=10 ROUNDS=3 benches/tls.sh
#
# Everything runs on 127.0.0.1 only; every load is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WORK=${BENCH_DIR:-/tmp/vidserve-bench}
BIN=${BIN:-target/dist/vidserve}
NGINX_PORT=${NGINX_PORT:-18443}
VS_TLS_PORT=${VS_TLS_PORT:-18444}
VS_PORT=${VS_PORT:-18445}
for tool in nginx wrk openssl curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y nginx wrk openssl curl" >&2; exit 1; }
done
[ -x "$BIN" ] || cargo build --profile dist --quiet
mkdir -p "$WORK/media" "$WORK/nginx-tls" "$WORK/tls"
[ -f "$WORK/media/big.mp4" ] || head -c 1073741824 /dev/urandom > "$WORK/media/big.mp4"
cat "$WORK/media/big.mp4" > /dev/null

# One certificate for both (ECDSA P-256, as --tls auto issues).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null

cat > "$WORK/nginx-tls/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx-tls/nginx.pid;
error_log $WORK/nginx-tls/error.log;
events { worker_connections 4096; }
http {
  sendfile on; access_log off; keepalive_requests 1000000;
  types { video/mp4 mp4; }
  client_body_temp_path $WORK/nginx-tls; proxy_temp_path $WORK/nginx-tls; fastcgi_temp_path $WORK/nginx-tls;
  uwsgi_temp_path $WORK/nginx-tls; scgi_temp_path $WORK/nginx-tls;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl http2;
    ssl_certificate $WORK/tls/cert.pem; ssl_certificate_key $WORK/tls/key.pem;
    root $WORK/media;
  }
}
CONF

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
nginx -c "$WORK/nginx-tls/nginx.conf" -p "$WORK/nginx-tls" -g 'daemon off;' 2>/dev/null &
pids+=($!)
rm -rf "$WORK/data-tls" "$WORK/data-plain"
$BIN --dir "$WORK/media" --data "$WORK/data-tls" --bind 127.0.0.1:$VS_TLS_PORT --no-watch --log warn \
  --tls-cert "$WORK/tls/cert.pem" --tls-key "$WORK/tls/key.pem" >/dev/null &
VT_PID=$!; pids+=($VT_PID)
$BIN --dir "$WORK/media" --data "$WORK/data-plain" --bind 127.0.0.1:$VS_PORT --no-watch --log warn >/dev/null &
VP_PID=$!; pids+=($VP_PID)
wait_ready() { for _ in $(seq 1 600); do curl -ksf -r 0-0 "$1" >/dev/null && return; sleep 0.1; done; echo "$1 not ready" >&2; exit 1; }
wait_ready "https://127.0.0.1:$VS_TLS_PORT/readyz"
wait_ready "http://127.0.0.1:$VS_PORT/readyz"
wait_ready "https://127.0.0.1:$NGINX_PORT/big.mp4"
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx-tls/nginx.pid")" | head -1)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)
# run PID URL WRK-ARGS... -> R_GIB R_RPS R_CPU (server CPU-s per GiB) R_P50
run() {
  local pid=$1 url=$2; shift 2
  local before after out
  cat "$WORK/media/big.mp4" > /dev/null
  before=$(cpu_ticks "$pid")
  out=$(wrk --latency -d "${DURATION}s" "$@" "$url")
  after=$(cpu_ticks "$pid")
  R_RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  R_GIB=$(awk '/read$/ || / read/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /read/) {v=$i; u=substr(v, length(v)-1); n=v+0; if (u=="MB") n/=1024; else if (u=="KB") n/=1048576; else if (u=="TB") n*=1024; print n; exit}}' <<<"$out")
  R_CPU=$(awk -v b="$before" -v a="$after" -v t="$TICKS" -v g="$R_GIB" 'BEGIN { if (g > 0) printf "%.3f", (a - b) / t / g; else print "-" }')
  R_P50=$(awk '/^ +50%/ {print $2}' <<<"$out")
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "# HTTPS streaming, $(date -u +%F), $(nproc) cores, $(uname -r), median of $ROUNDS runs of ${DURATION}s (wrk: HTTP/1.1 over TLS 1.3)"
echo
echo "| scenario | nginx https | vidserve https | vidserve http | CPU-s/GiB nginx https | vidserve https | vidserve http | https ratio |"
echo "|---|---|---|---|---|---|---|---|"
for load in "1 stream:-t1 -c1" "8 streams:-t2 -c8"; do
  label=${load%%:*}; args=${load#*:}
  nv=(); tv=(); pv=(); nc=(); tc=(); pc=()
  for _ in $(seq 1 "$ROUNDS"); do
    # shellcheck disable=SC2086
    run "$NGINX_WORKER" "https://127.0.0.1:$NGINX_PORT/big.mp4" $args; nv+=("$R_GIB"); nc+=("$R_CPU")
    # shellcheck disable=SC2086
    run "$VT_PID" "https://127.0.0.1:$VS_TLS_PORT/video/big.mp4" $args; tv+=("$R_GIB"); tc+=("$R_CPU")
    # shellcheck disable=SC2086
    run "$VP_PID" "http://127.0.0.1:$VS_PORT/video/big.mp4" $args; pv+=("$R_GIB"); pc+=("$R_CPU")
  done
  gps() { awk -v g="$1" -v d="$DURATION" 'BEGIN { printf "%.2f GiB/s", g / d }'; }
  n=$(printf '%s\n' "${nc[@]}" | median); t=$(printf '%s\n' "${tc[@]}" | median); p=$(printf '%s\n' "${pc[@]}" | median)
  echo "| $label | $(gps "$(printf '%s\n' "${nv[@]}" | median)") | $(gps "$(printf '%s\n' "${tv[@]}" | median)") | $(gps "$(printf '%s\n' "${pv[@]}" | median)") | $n | $t | $p | $(awk -v a="$t" -v b="$n" 'BEGIN { printf "%.2fx", a / b }') |"
done

# Handshakes: a new TLS connection per request (curl, 200 in a row).
handshake() {
  local url=$1 t0 t1
  t0=$(date +%s.%N)
  for _ in $(seq 1 200); do curl -ksf -o /dev/null --http1.1 "$url"; done
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f ms", (b - a) * 1000 / 200 }'
}
echo
echo "| new connection + TLS 1.3 handshake + one small request (curl, mean of 200) | nginx | vidserve |"
echo "|---|---|---|"
echo "| time | $(handshake "https://127.0.0.1:$NGINX_PORT/nothing") | $(handshake "https://127.0.0.1:$VS_TLS_PORT/healthz") |"
