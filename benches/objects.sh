#!/usr/bin/env bash
# Videos in object storage against the same bytes on a local disk, one
# server, same run: a real Garage 2.5 on loopback holds a 1 GiB object and
# 10,000 small videos; the server serves the bucket and a local folder.
#
#   BIN=target/dist/vidserve benches/objects.sh
#   DURATION=10 BIN=... benches/objects.sh
#
# Prints: whole-file streams (GiB/s, the server's CPU seconds per GiB, and
# Garage's), time to the first byte of a 64 KiB range (median and p95 of
# 100), the first scan and an unchanged rescan of 10,000 objects (seconds
# and requests Garage logged), and the server's memory per open stream.
# Loopback only; needs wrk, curl, python3 with boto3 (pip install boto3).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?BIN=path of the vidserve build}"
DURATION=${DURATION:-10}
WORK=${BENCH_DIR:-/tmp/vidserve-bench}
GARAGE=${GARAGE:-$(command -v garage || echo ../shared/tools/garage-2.5.0-x86_64-linux-gnu)}
PORT=${PORT:-18093}
S3=${S3_PORT:-39900}
KEY=GKvidservebench0001
SECRET=vidserve-bench-secret-0123456789abcdef
command -v wrk >/dev/null || { echo "needs wrk" >&2; exit 1; }
python3 -c "import boto3" 2>/dev/null || { echo "needs boto3: pip install boto3" >&2; exit 1; }

mkdir -p "$WORK/media" "$WORK/objects-local"
[ -f "$WORK/media/big.mp4" ] || head -c 1073741824 /dev/urandom > "$WORK/media/big.mp4"
ln -f "$WORK/media/big.mp4" "$WORK/objects-local/big-local.mp4" 2>/dev/null \
  || cp "$WORK/media/big.mp4" "$WORK/objects-local/big-local.mp4"

G=$(mktemp -d); DATA=$(mktemp -d); DATA2=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$G" "$DATA" "$DATA2"; }
trap cleanup EXIT
cat > "$G/garage.toml" <<EOF
metadata_dir = "$G/meta"
data_dir = "$G/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$((S3 + 1))"
rpc_public_addr = "127.0.0.1:$((S3 + 1))"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$S3"
root_domain = ".s3.garage.localhost"
[admin]
api_bind_addr = "127.0.0.1:$((S3 + 2))"
EOF
chmod 600 "$G/garage.toml"
GARAGE_DEFAULT_ACCESS_KEY=$KEY GARAGE_DEFAULT_SECRET_KEY=$SECRET GARAGE_DEFAULT_BUCKET=films \
  RUST_LOG=garage_api_common=info,warn NO_COLOR=1 "$GARAGE" -c "$G/garage.toml" server --single-node --default-bucket \
  > "$G/log" 2>&1 &
GPID=$!; pids+=($GPID)
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$S3) 2>/dev/null && break; sleep 0.1; done

echo "== filling the bucket (1 GiB object, 10,000 small videos)"
. benches/synthetic.sh
synthetic_library 100000 "$WORK/lib100k"
python3 - "$S3" "$KEY" "$SECRET" "$WORK/media/big.mp4" "$WORK/lib100k" <<'EOF'
import sys, concurrent.futures, boto3, botocore
port, key, secret, big = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="garage",
                  aws_access_key_id=key, aws_secret_access_key=secret,
                  config=botocore.config.Config(s3={"addressing_style": "path"}, max_pool_connections=32))
for _ in range(100):
    try:
        s3.head_bucket(Bucket="films"); break
    except Exception:
        import time; time.sleep(0.1)
s3.upload_file(big, "films", "big-bucket.mp4")
# The first 10,000 videos of the synthetic library (valid MP4s the probe reads).
import os
lib = sys.argv[5]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(lib) for f in fs if f.endswith(".mp4"))[:10000]
def put(i): s3.upload_file(files[i], "films", f"lib10k/{os.path.relpath(files[i], lib)}")
with concurrent.futures.ThreadPoolExecutor(32) as pool: list(pool.map(put, range(len(files))))
EOF

requests() { grep -c 'generic_server:.* \(GET\|HEAD\) ' "$G/log" || true; }
wait_ready() { for _ in $(seq 1200); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done; echo "not ready" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET
OBJ=(--s3-endpoint "http://127.0.0.1:$S3" --s3-region garage)

echo "== scan of 10,000 objects"
before=$(requests)
"$BIN" --dir "s3://films/lib10k" "${OBJ[@]}" --data "$DATA2" --bind "127.0.0.1:$((PORT + 1))" --no-watch --log warn >/dev/null &
SPID=$!; pids+=($SPID)
wait_ready $((PORT + 1))
first=$(curl -s "http://127.0.0.1:$((PORT + 1))/admin/cache/status" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["video_count"], s["last_scan"]["duration_ms"])')
after_first=$(requests)
curl -s -X POST "http://127.0.0.1:$((PORT + 1))/admin/cache/refresh" >/dev/null
again=$(curl -s "http://127.0.0.1:$((PORT + 1))/admin/cache/status" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["last_scan"]["duration_ms"])')
after_again=$(requests)
listings() { grep -c 'generic_server:.* GET /films?\|generic_server:.* GET /films/?' "$G/log" || true; }
echo "first scan: $first (videos, ms); store requests (GET/HEAD): $((after_first - before))"
echo "unchanged rescan: $again ms; store requests (GET/HEAD, listing pages included): $((after_again - after_first))"
kill $SPID; wait $SPID 2>/dev/null || true

"$BIN" --dir "$WORK/objects-local" --dir "s3://films" "${OBJ[@]}" --data "$DATA" --bind "127.0.0.1:$PORT" --no-watch --log warn >/dev/null &
VPID=$!; pids+=($VPID)
wait_ready $PORT
curl -s -X POST "http://127.0.0.1:$PORT/admin/cache/refresh" >/dev/null
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)
stream() { # LABEL PATH
  cat "$WORK/media/big.mp4" > /dev/null
  local v0 g0 out gib
  v0=$(cpu $VPID); g0=$(cpu $GPID)
  out=$(wrk -t 2 -c 4 -d "${DURATION}s" "http://127.0.0.1:$PORT/video/$2")
  gib=$(awk '/ read/ {v=$(NF-2); u=substr(v, length(v)-1); n=v+0; if (u=="MB") n/=1024; else if (u=="KB") n/=1048576; print n; exit}' <<<"$out")
  awk -v l="$1" -v g="$gib" -v d="$DURATION" -v v="$(( $(cpu $VPID) - v0 ))" -v gc="$(( $(cpu $GPID) - g0 ))" -v t="$TICKS" \
    'BEGIN { printf "%-14s %.2f GiB/s  vidserve %.3f CPU-s/GiB  garage %.3f CPU-s/GiB\n", l, g / d, v / t / g, gc / t / g }'
}
echo "== whole-file streams, 4 connections, ${DURATION} s"
stream "local folder" big-local.mp4
stream "bucket" big-bucket.mp4
stream "local folder" big-local.mp4
stream "bucket" big-bucket.mp4

echo "== time to the first byte of a 64 KiB range (100 each)"
ttfb() { # PATH
  for i in $(seq 100); do
    at=$(( (RANDOM * 32768 + RANDOM) % 1000000000 ))
    curl -s -o /dev/null -w '%{time_starttransfer}\n' -H "range: bytes=$at-$((at + 65535))" "http://127.0.0.1:$PORT/video/$1"
  done | sort -g | awk '{v[NR]=$1} END {printf "median %.1f ms  p95 %.1f ms\n", v[50]*1000, v[95]*1000}'
}
echo "local folder: $(ttfb big-local.mp4)"
echo "bucket:       $(ttfb big-bucket.mp4)"

echo "== memory per stream (50 streams at 2 MB/s each)"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$VPID/status"; }
streams() { # PATH
  local base open cpids=()
  base=$(rss)
  for i in $(seq 50); do
    curl -s -o /dev/null --limit-rate 2M "http://127.0.0.1:$PORT/video/$1" & cpids+=($!)
  done
  sleep 5
  open=$(rss)
  for p in "${cpids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${cpids[@]}" 2>/dev/null || true
  sleep 1
  echo "RSS before ${base} KiB, with 50 streams ${open} KiB: $(( (open - base) / 50 )) KiB per stream"
}
echo "local folder: $(streams big-local.mp4)"
echo "bucket:       $(streams big-bucket.mp4)"
