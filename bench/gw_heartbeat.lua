-- wrk script: POSTs heartbeats for pre-registered gateway ids (IDS_FILE,
-- one per line) with the gateway key (GW_KEY), a random gateway each time.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do
  if #line > 0 then ids[#ids + 1] = line end
end
local key = os.getenv("GW_KEY")
local n = 0

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
end

request = function()
  n = n + 1
  local id = ids[math.random(#ids)]
  local body = string.format('{"uptime_seconds":%d,"routes_count":12,"policies_count":3,"requests_total":%d,"error_rate":0.01}', n, n * 10)
  return wrk.format("POST", "/v1/internal/gateways/" .. id .. "/heartbeat",
    { ["X-Gateway-Key"] = key, ["Content-Type"] = "application/json" }, body)
end
