#!/usr/bin/env bash
# Search under load: 50 connections, every request a word never searched
# before (benches/search.lua), against a synthetic library of N videos
# (`cargo bench --bench library -- --make`). With OLD=<git rev>, the same
# run also measures that revision's server (built in a worktree), so the
# two are compared on one machine at one time.
#
#   N=100000 benches/search.sh
#   N=1000000 OLD=HEAD~1 DURATION=10 benches/search.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/synthetic.sh

N=${N:-100000}
DURATION=${DURATION:-10}
PORT=${PORT:-18690}
LIB=${LIB:-/tmp/vidserve-bench-$N}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }

[ -n "${NO_BUILD:-}" ] || cargo build --profile dist --quiet
synthetic_library "$N" "$LIB"

run() { # name binary
  local name=$1 bin=$2 data
  data=$(mktemp -d)
  "$bin" --dir "$LIB" --data "$data" --port "$PORT" --no-watch --log warn >/dev/null &
  local pid=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
  local rss
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
  for typo in 0 1; do
    echo "== $name, $N videos, RSS ${rss} MiB, $([ $typo = 1 ] && echo 'a typo and a new number' || echo 'a new number') per request"
    TYPO=$typo wrk -t2 -c50 -d"${DURATION}s" --latency -s benches/search.lua "http://127.0.0.1:$PORT" |
      grep -E 'Requests/sec|^ +50%|^ +99%'
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}

run "this tree" target/dist/vidserve
if [ -n "${OLD:-}" ]; then
  tree=$(mktemp -d)
  git worktree add --quiet --detach "$tree" "$OLD"
  (cd "$tree" && CARGO_TARGET_DIR="$PWD/../vidserve-old-target" cargo build --profile dist --quiet)
  run "$OLD" "$tree/../vidserve-old-target/dist/vidserve"
  git worktree remove --force "$tree"
fi
