-- wrk script for `digits serve`: POST the 784-pixel JSON of a "1" to /api/predict.
--   wrk -t2 -c32 -d10s -s examples/wrk_predict.lua http://127.0.0.1:8080
local px = {}
for y = 0, 27 do
  for x = 0, 27 do
    local v = 0
    if y >= 4 and y < 24 then
      if x == 13 then v = 1 elseif x == 12 then v = 0.612 elseif x == 14 then v = 0.388 end
    end
    px[#px + 1] = v
  end
end
wrk.method = "POST"
wrk.path = "/api/predict"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"pixels":[' .. table.concat(px, ",") .. ']}'

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. ": " .. body .. "\n")
  end
end
