-- wrk script for bench/load.py: POST /v1/events with unique ids, single events or batches.
-- BATCH (env) events per request; 1 posts a single event object.
local batch = tonumber(os.getenv("BATCH") or "1")
local key = os.getenv("API_KEY") or "bench-key"
local run = os.getenv("RUN_ID") or "r"
local threads = {}
local counter = 0
local tid = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["Content-Type"] = "application/json"
  accepted_requests = 0
  other = 0
end

local function event(id)
  return '{"id":"' .. id .. '","type":"ticket.solved","contact":{"id":"c' .. id ..
         '","phone":"+14155550100"},"properties":{"ticket_id":"T-1","team":"billing"}}'
end

function request()
  counter = counter + 1
  local prefix = run .. "-" .. tid .. "-" .. counter
  local body
  if batch == 1 then
    body = event(prefix)
  else
    local parts = {}
    for i = 1, batch do parts[i] = event(prefix .. "-" .. i) end
    body = '{"events":[' .. table.concat(parts, ",") .. ']}'
  end
  return wrk.format(nil, "/v1/events", nil, body)
end

function response(status, headers, body)
  if status == 202 then accepted_requests = accepted_requests + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("accepted_requests")
    bad = bad + t:get("other")
  end
  io.write(string.format("RESULT accepted_requests=%d other=%d p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    ok, bad, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
