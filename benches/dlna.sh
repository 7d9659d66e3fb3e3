#!/usr/bin/env bash
# DLNA Browse against MiniDLNA on the same folder, and the memory --dlna adds.
#
#   benches/dlna.sh [N...]          (default: 1000 100000; needs root,
#                                    minidlna, ffmpeg, curl)
#
# Makes N small distinct MP4 files (one real clip, each copy given a `free`
# box of its own), then, inside a network namespace of its own (SSDP never
# leaves it), runs vidserve --dlna and minidlnad on the folder and times:
# - first: one Browse of the first 100 videos of the "all videos" container;
# - deep: one Browse of the last 100;
# - walk: every video, 500 a Browse.
# Each figure is the median of 5 runs, in ms. Memory: vidserve's VmHWM after
# the walks, with and without --dlna (the folder tree and answers' peak).
set -euo pipefail
cd "$(dirname "$0")/.."
ns=vsbench-dlna
work=${WORK:-/tmp/vidserve-dlna-bench}
cargo build --release --quiet
bin=target/release/vidserve
mkdir -p "$work"
ip netns del $ns 2>/dev/null || true
ip netns add $ns
trap 'ip netns del $ns 2>/dev/null; pkill -f "$work/minidlna.conf" 2>/dev/null || true' EXIT
ip netns exec $ns ip link set lo up
ip netns exec $ns ip link set lo multicast on
ip netns exec $ns ip route add 239.0.0.0/8 dev lo

make_library() {
  local n=$1 dir=$2
  [ -f "$dir/.done" ] && return
  rm -rf "$dir" && mkdir -p "$dir"
  ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=10 -t 1 -c:v libx264 -pix_fmt yuv420p "$work/clip.mp4"
  python3 - "$work/clip.mp4" "$dir" "$n" <<'EOF'
import os, struct, sys
clip, out, n = open(sys.argv[1], 'rb').read(), sys.argv[2], int(sys.argv[3])
for i in range(n):
    sub = os.path.join(out, f"folder {i // 1000:03d}")
    os.makedirs(sub, exist_ok=True)
    tag = f"vidserve bench {i:08d}".encode()
    with open(os.path.join(sub, f"video {i:06d}.mp4"), 'wb') as f:
        f.write(clip + struct.pack('>I', 8 + len(tag)) + b'free' + tag)
EOF
  touch "$dir/.done"
}

# One Browse (ObjectID, start, count) as a player sends it; prints ms.
browse_py='
import sys, time, urllib.request
url, oid = sys.argv[1], sys.argv[2]
def browse(s, c):
    body = f"""<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>{oid}</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag><Filter>*</Filter><StartingIndex>{s}</StartingIndex><RequestedCount>{c}</RequestedCount><SortCriteria></SortCriteria></u:Browse></s:Body></s:Envelope>"""
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "text/xml; charset=\"utf-8\"", "SOAPACTION": "\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\""})
    text = urllib.request.urlopen(req, timeout=600).read().decode()
    total = int(text.split("<TotalMatches>")[1].split("<")[0])
    got = int(text.split("<NumberReturned>")[1].split("<")[0])
    return got, total
def median(f):
    runs = []
    for _ in range(5):
        t = time.perf_counter(); r = f(); runs.append((time.perf_counter() - t) * 1000)
    return sorted(runs)[2], r
_, total = browse(0, 1)
first, _ = median(lambda: browse(0, 100))
deep, _ = median(lambda: browse(max(total - 100, 0), 100))
def walk():
    s = 0
    while s < total:
        got, _ = browse(s, 500)
        if got == 0: break
        s += got
    return s
walked, seen = median(walk)
print(f"{total} videos: first {first:.1f} ms, deep {deep:.1f} ms, walk {walked:.0f} ms ({seen} listed)")
'

wait_http() {
  for _ in $(seq 1 6000); do
    ip netns exec $ns curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  return 1
}

hwm() { grep VmHWM "/proc/$1/status" | awk '{print $2}'; }

for n in "${@:-1000 100000}"; do
  for n in $n; do
    dir="$work/lib-$n"
    make_library "$n" "$dir"
    echo "== $n videos"
    # vidserve, with --dlna.
    rm -rf "$work/data-$n"
    ip netns exec $ns "$bin" --dir "$dir" --data "$work/data-$n" --bind 127.0.0.1:8200 --no-watch --dlna --dlna-interface lo >/dev/null 2>&1 &
    pid=$!
    wait_http http://127.0.0.1:8200/readyz
    until ip netns exec $ns curl -sf http://127.0.0.1:8200/readyz >/dev/null; do sleep 0.2; done
    scanned=$(hwm "$pid")
    printf 'vidserve:  '
    ip netns exec $ns python3 -c "$browse_py" http://127.0.0.1:8200/dlna/cds/control all
    with=$(hwm "$pid")
    kill $pid; wait $pid 2>/dev/null || true
    # vidserve without --dlna: the same library, the same listing walked
    # through the web API (so only what DLNA adds differs).
    ip netns exec $ns "$bin" --dir "$dir" --data "$work/data-$n" --bind 127.0.0.1:8200 --no-watch >/dev/null 2>&1 &
    pid=$!
    until ip netns exec $ns curl -sf http://127.0.0.1:8200/readyz >/dev/null; do sleep 0.2; done
    pages=$(( (n + 499) / 500 ))
    for r in 1 2 3 4 5; do for p in $(seq 1 $pages); do ip netns exec $ns curl -s -o /dev/null "http://127.0.0.1:8200/api/v1/videos?sort=title&per_page=500&page=$p"; done; done
    without=$(hwm "$pid")
    kill $pid; wait $pid 2>/dev/null || true
    echo "vidserve memory (VmHWM): ${scanned} KiB after the scan, ${with} KiB after the DLNA walks (--dlna); ${without} KiB without --dlna after the same listing through the web API"
    # MiniDLNA on the same folder: its database made (-R), timed until its
    # scan ends.
    rm -rf "$work/minidlna-$n" && mkdir -p "$work/minidlna-$n"
    cat > "$work/minidlna.conf" <<EOF
port=8201
network_interface=lo
media_dir=V,$dir
db_dir=$work/minidlna-$n
log_dir=$work/minidlna-$n
inotify=no
friendly_name=minidlna bench
EOF
    start=$(date +%s)
    ip netns exec $ns minidlnad -f "$work/minidlna.conf" -R -d >"$work/minidlna-$n/out.log" 2>&1 &
    mpid=$!
    wait_http http://127.0.0.1:8201/rootDesc.xml
    # Its scanner writes the database until it has parsed playlists (the
    # last step); stopped before, the database holds a fraction.
    until grep -q "Finished parsing playlists" "$work/minidlna-$n/out.log" 2>/dev/null; do sleep 1; done
    echo "minidlna scan: $(( $(date +%s) - start )) s"
    # Started again on the database it made (its server process opened the
    # database before the scan made the tables, and answers nothing).
    kill $mpid; wait $mpid 2>/dev/null || true
    ip netns exec $ns minidlnad -f "$work/minidlna.conf" -d >"$work/minidlna-$n/out2.log" 2>&1 &
    mpid=$!
    wait_http http://127.0.0.1:8201/rootDesc.xml
    printf 'minidlna:  '
    # 64 is MiniDLNA's "Video > All Video" container.
    ip netns exec $ns python3 -c "$browse_py" http://127.0.0.1:8201/ctl/ContentDir '2$8'
    echo "minidlna memory (VmHWM): $(hwm "$mpid") KiB"
    kill $mpid; wait $mpid 2>/dev/null || true
  done
done
