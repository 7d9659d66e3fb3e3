# Sourced by the benchmark scripts: the wrk scripts of the shared loads.
#   ranges_lua FILE SIZE   64 KiB random ranges of a SIZE-byte file
#   gallery_lua FILE PAGES gallery pages in every file sort, random page
#   writes_lua FILE IDS    POST a view to one of IDS (space-separated), at random
ranges_lua() {
  cat > "$1" <<LUA
math.randomseed(os.time())
request = function()
  local off = math.random(0, $2 - 65536)
  return wrk.format("GET", nil, { Range = "bytes=" .. off .. "-" .. (off + 65535) })
end
LUA
}
gallery_lua() {
  cat > "$1" <<LUA
local sorts = { "added", "title", "size", "duration" }
local orders = { "asc", "desc" }
request = function()
  local path = "/?sort=" .. sorts[math.random(#sorts)] .. "&order=" .. orders[math.random(#orders)]
      .. "&page=" .. math.random(1, $2)
  return wrk.format("GET", path)
end
LUA
}
writes_lua() {
  {
    echo "local ids = {}"
    for id in $2; do echo "table.insert(ids, \"$id\")"; done
    cat <<'LUA'
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("POST", "/api/v1/videos/" .. id .. "/view")
end
LUA
  } > "$1"
}
