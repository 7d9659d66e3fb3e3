-- wrk script: every request searches a word never searched before (a
-- random six-digit number; the synthetic library names its videos
-- "video 000123"), or with TYPO=1 a misspelt word.
math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
local typo = os.getenv("TYPO") == "1"
request = function()
  local q
  if typo then
    local words = { "vdieo", "foldre", "vidoe", "fodler" }
    q = words[math.random(#words)] .. "%20" .. string.format("%06d", math.random(0, 999999))
  else
    q = string.format("%06d", math.random(0, 999999))
  end
  return wrk.format("GET", "/api/v1/videos?per_page=20&q=" .. q)
end
