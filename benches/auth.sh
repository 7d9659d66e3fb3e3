#!/usr/bin/env bash
# The cost of accounts: gallery pages and 64 KiB ranges from a server with
# no accounts against the same library served with accounts (every request
# carrying an API token: the admin's, who holds the household's data, and a
# viewer's, whose own ratings are laid over the shared ones). Same machine,
# same run, rounds alternating; prints a markdown table with ratios.
#
#   benches/auth.sh                 # needs ffmpeg (fixtures)
#   DURATION=10 ROUNDS=5 benches/auth.sh
#
# Everything runs on 127.0.0.1 only; every load is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
WORK=${BENCH_DIR:-/tmp/vidserve-auth-bench}
OPEN_PORT=${OPEN_PORT:-18091}
AUTH_PORT=${AUTH_PORT:-18092}
command -v ffmpeg >/dev/null || { echo "needs ffmpeg: apt-get install -y ffmpeg" >&2; exit 1; }

[ -n "${NO_BUILD:-}" ] || cargo build --profile dist --quiet
BIN=target/dist/vidserve
mkdir -p "$WORK/media"
# 60 distinct short clips, made once.
for i in $(seq 0 59); do
  f="$WORK/media/clip$i.mp4"
  [ -f "$f" ] || ffmpeg -loglevel error -y -f lavfi -i "testsrc=duration=4:size=320x240:rate=25" \
    -metadata title="clip $i" -c:v libx264 -pix_fmt yuv420p "$f"
done

rm -rf "$WORK/open" "$WORK/auth"
echo "long enough" | $BIN user add ann --role admin --password-stdin --data "$WORK/auth" >/dev/null
echo "long enough" | $BIN user add vic --role viewer --password-stdin --data "$WORK/auth" >/dev/null
ANN=$($BIN user token ann --data "$WORK/auth")
VIC=$($BIN user token vic --data "$WORK/auth")

$BIN --dir "$WORK/media" --data "$WORK/open" --bind "127.0.0.1:$OPEN_PORT" >"$WORK/open.log" 2>&1 &
OPEN_PID=$!
$BIN --dir "$WORK/media" --data "$WORK/auth" --bind "127.0.0.1:$AUTH_PORT" >"$WORK/auth.log" 2>&1 &
AUTH_PID=$!
trap 'kill $OPEN_PID $AUTH_PID 2>/dev/null || true' EXIT
for port in $OPEN_PORT $AUTH_PORT; do
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
  done
done
# Vic rates a few videos, so their listing has something of their own.
for id in $(curl -fs -H "Authorization: Bearer $VIC" "http://127.0.0.1:$AUTH_PORT/api/v1/videos?per_page=10" \
  | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4); do
  curl -fs -X PUT -H "Authorization: Bearer $VIC" -H 'Content-Type: application/json' \
    -d '{"rating": 4}' "http://127.0.0.1:$AUTH_PORT/api/v1/videos/$id/rating" >/dev/null
done

# req/s of one load test.
rate() {
  local port=$1 scenario=$2 token=${3:-}
  VIDSERVE_TOKEN=$token $BIN loadtest "http://127.0.0.1:$port/" -c "$CONNECTIONS" -d "$DURATION" \
    --scenario "$scenario" | sed -n 's/.* \([0-9]*\) req\/s.*/\1/p'
}
best() { sort -n | tail -1; }

echo "| scenario | no accounts | admin token | ratio | viewer token | ratio |"
echo "|---|---|---|---|---|---|"
for scenario in gallery ranges; do
  : >"$WORK/o" ; : >"$WORK/a" ; : >"$WORK/v"
  for _ in $(seq "$ROUNDS"); do
    rate $OPEN_PORT $scenario >>"$WORK/o"
    rate $AUTH_PORT $scenario "$ANN" >>"$WORK/a"
    rate $AUTH_PORT $scenario "$VIC" >>"$WORK/v"
  done
  o=$(best <"$WORK/o"); a=$(best <"$WORK/a"); v=$(best <"$WORK/v")
  echo "| $scenario ($CONNECTIONS connections, best of $ROUNDS) | $o req/s | $a req/s | $(awk "BEGIN{printf \"%.2f\", $a/$o}") | $v req/s | $(awk "BEGIN{printf \"%.2f\", $v/$o}") |"
done
