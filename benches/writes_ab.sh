#!/usr/bin/env bash
# Durable writes A/B: POST views, 50 connections, two builds on the same
# 100,000-video library (benches/synthetic.sh), alternating 5 s rounds.
#   benches/writes_ab.sh OLD_BINARY NEW_BINARY
A=$1; B=$2; LIB=/tmp/vidserve-bench/lib100k
WORK=$(mktemp -d)
start() { $1 --dir $LIB --data $WORK/$2 --bind 127.0.0.1:$3 --no-watch >/dev/null 2>&1 & echo $!; }
PA=$(start $A a 18401); PB=$(start $B b 18402)
for p in 18401 18402; do for i in $(seq 300); do curl -sf http://127.0.0.1:$p/readyz >/dev/null && break; sleep 0.2; done; done
IDS=$(curl -sf "http://127.0.0.1:18401/api/v1/videos?per_page=500&sort=title" | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4 | tr '\n' ' ')
. "$(dirname "$0")/loads.sh"
writes_lua $WORK/w.lua "$IDS"
for r in 1 2 3 4 5; do
  for p in 18401 18402; do
    echo "$p $(wrk -t2 -c50 -d5s -s $WORK/w.lua http://127.0.0.1:$p/ | awk '/Requests\/sec/ {print $2}')"
  done
done | awk '{a[$1]=a[$1]" "$2} END {for (k in a) print k, a[k]}'
kill $PA $PB; wait 2>/dev/null; rm -rf $WORK 2>/dev/null || true
