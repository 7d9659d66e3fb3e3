#!/usr/bin/env bash
# What a page weighs as a browser gets it: the gzip bytes of the page,
# its stylesheet, and every script module it loads (`app.js` and what it
# imports, followed import by import), from a running server.
#
#   benches/pageweight.sh http://127.0.0.1:8080 / /watch/ID /series
#
# Two servers side by side (an old build and a new one on the same
# library) give the before and after of a change.
set -euo pipefail
base=${1:?usage: pageweight.sh BASE PATH...}
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
get() { curl -fsS -H 'Accept-Encoding: gzip' "$1" -o "$2" -w '%{size_download}'; }
for path in "$@"; do
  html=$(get "$base$path" "$tmp/page")
  hash=$(zcat -f "$tmp/page" | grep -o '/assets/[0-9a-f]*/app.css' | head -1 | cut -d/ -f3)
  css=$(get "$base/assets/$hash/app.css" "$tmp/css")
  js=0
  todo=(app.js theme.js)
  seen=" "
  while ((${#todo[@]})); do
    f=${todo[0]}
    todo=("${todo[@]:1}")
    [[ $seen == *" $f "* ]] && continue
    seen+="$f "
    js=$((js + $(get "$base/assets/$hash/$f" "$tmp/js")))
    while read -r dep; do todo+=("$dep"); done < <(zcat -f "$tmp/js" | grep -o 'from "\./[a-z]*\.js"' | grep -o '[a-z]*\.js' || true)
  done
  modules=$(wc -w <<<"$seen")
  echo "$path: page $html B, css $css B, js $js B ($modules modules), in all $((html + css + js)) B (gzip)"
done
