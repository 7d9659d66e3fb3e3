#!/usr/bin/env bash
# Replicas on PostgreSQL against the single box, in one run, on the
# 100,000-video library (benches/synthetic.sh), everything on loopback:
# - durable writes (POST views, 50 connections, wrk): redb against
#   PostgreSQL (fsync on), alternating 10 s rounds, req/s and p99;
# - how long a rating written through replica A takes to reach an event
#   stream open on replica B;
# - with nginx in front of A and B, from A's SIGKILL to the next range the
#   proxy serves;
# - memory (VmRSS) of each server afterwards.
#   benches/replicas.sh [BINARY]      (default: the dist build)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/dist/vidserve}
[ -x "$BIN" ] || cargo build --profile dist --quiet
. benches/synthetic.sh
. benches/loads.sh
LIB=/tmp/vidserve-bench/lib100k
synthetic_library 100000 "$LIB"
WORK=$(mktemp -d); chmod 755 "$WORK"
PG=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
mkdir "$WORK/pg"; chown postgres "$WORK/pg"
runuser -u postgres -- "$PG/initdb" -D "$WORK/pg/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$PG/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p 18432 -k $WORK/pg" start >/dev/null
DB=postgres://postgres@127.0.0.1:18432/postgres
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  runuser -u postgres -- "$PG/pg_ctl" -D "$WORK/pg/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
serve() { # NAME PORT [ARGS…]
  local name=$1 port=$2; shift 2
  RUST_LOG=warn "$BIN" --dir "$LIB" --data "$WORK/$name" --bind 127.0.0.1:$port --no-watch "$@" \
    >"$WORK/$name.log" 2>&1 &
  pids+=($!); eval "PID_$name=$!"
  for _ in $(seq 1200); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && return; sleep 0.25; done
  echo "$name did not become ready" >&2; exit 1
}
t0=$(date +%s.%N)
serve redb 18501
echo "redb: ready in $(echo "$(date +%s.%N) - $t0" | bc) s"
t0=$(date +%s.%N)
serve a 18502 --database $DB
echo "PostgreSQL, first replica (scans 100,000 files into the database): ready in $(echo "$(date +%s.%N) - $t0" | bc) s"
t0=$(date +%s.%N)
serve b 18503 --database $DB
echo "PostgreSQL, second replica (reads the index): ready in $(echo "$(date +%s.%N) - $t0" | bc) s"

IDS=$(curl -sf "http://127.0.0.1:18501/api/v1/videos?per_page=500&sort=title" | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4 | tr '\n' ' ')
writes_lua "$WORK/w.lua" "$IDS"
echo "durable writes, 50 connections, 10 s rounds (req/s, p99):"
for r in 1 2 3; do
  for p in 18501 18502; do
    out=$(wrk -t2 -c50 -d10s --latency -s "$WORK/w.lua" http://127.0.0.1:$p/)
    echo "  $([ $p = 18501 ] && echo redb || echo postgres) $(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1 == "99%" {print $2}') non-2xx: $(echo "$out" | awk '/Non-2xx/ {print $4}')"
  done
done

python3 - "$IDS" <<'PY'
import http.client, json, sys, threading, time, statistics
ids = sys.argv[1].split()
heard = {}
def listen():
    c = http.client.HTTPConnection("127.0.0.1", 18503)
    c.request("GET", "/api/v1/events")
    r = c.getresponse()
    for line in r:
        if line.startswith(b"data:") and b'"rating"' in line:
            d = json.loads(line[5:])
            heard.setdefault((d["id"], d["rating"]), time.monotonic())
threading.Thread(target=listen, daemon=True).start()
time.sleep(1)
lat = []
for n in range(40):
    vid, rating = ids[n], 1 + n % 5
    sent = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", 18502)
    c.request("PUT", f"/api/v1/videos/{vid}/rating", json.dumps({"rating": rating}), {"Content-Type": "application/json"})
    assert c.getresponse().status == 200
    while (vid, rating) not in heard and time.monotonic() - sent < 5:
        time.sleep(0.0005)
    lat.append((heard[(vid, rating)] - sent) * 1000)
    time.sleep(0.05)
lat.sort()
print(f"a rating written through A, heard on B's event stream: median {statistics.median(lat):.1f} ms, "
      f"p90 {lat[int(len(lat) * 0.9)]:.1f} ms, max {lat[-1]:.1f} ms (40 ratings; includes A's commit)")
PY

NG=$WORK/nginx; mkdir -p $NG
cat > $NG/nginx.conf <<CONF
worker_processes 1; daemon off; pid $NG/pid; error_log $NG/error.log;
events {}
http { access_log off; client_body_temp_path $NG/b; proxy_temp_path $NG/p; fastcgi_temp_path $NG/f; uwsgi_temp_path $NG/u; scgi_temp_path $NG/s;
  upstream v { server 127.0.0.1:18502 max_fails=1 fail_timeout=30s; server 127.0.0.1:18503 max_fails=1 fail_timeout=30s; }
  server { listen 127.0.0.1:18510; location / { proxy_pass http://v; proxy_http_version 1.1; proxy_set_header Connection "";
    proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$remote_addr; proxy_buffering off;
    proxy_next_upstream error timeout http_502 http_503; proxy_connect_timeout 2s; } } }
CONF
nginx -c $NG/nginx.conf -e $NG/error.log & pids+=($!)
sleep 0.5
ID=${IDS%% *}
python3 - "$ID" "$PID_a" <<'PY'
import http.client, json, os, signal, sys, time
vid, pid = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", 18510, timeout=10)
c.request("GET", f"/api/v1/videos/{vid}")
size = json.loads(c.getresponse().read())["size"]
step = size // 4
def fetch(at):
    c = http.client.HTTPConnection("127.0.0.1", 18510, timeout=10)
    c.request("GET", f"/video/{vid}", headers={"Range": f"bytes={at}-{at + step - 1}"})
    r = c.getresponse(); body = r.read(); c.close()
    return r.status, body
offsets = (0, step, 2 * step)
want = {at: fetch(at)[1] for at in offsets}
os.kill(pid, signal.SIGKILL)
killed = time.monotonic()
status, body = fetch(step)
took = (time.monotonic() - killed) * 1000
assert status == 206 and body == want[step], status
worst = 0
for n in range(200):
    s = time.monotonic(); st, b = fetch(offsets[n % 3]); worst = max(worst, time.monotonic() - s)
    assert st == 206 and b == want[offsets[n % 3]]
print(f"replica A SIGKILLed: next range through nginx served in {took:.1f} ms, same bytes; "
      f"200 more ranges, slowest {worst * 1000:.1f} ms")
PY
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' /proc/$1/status; }
echo "memory after the loads, 100,000 videos: redb $(rss $PID_redb); replica B on PostgreSQL $(rss $PID_b)"
