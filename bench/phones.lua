-- wrk script: every request is a random phone's per-device file, with that
-- phone's User-Agent and (when the list has one) its Basic credential.
-- Usage: wrk -t2 -c64 -d15s -s bench/phones.lua URL -- <request list>
-- The list (benchtool wrkreqs) has one line per phone: path, User-Agent,
-- Authorization value (may be empty), tab-separated.

local reqs = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local path, ua, auth = line:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
    local h = { ["User-Agent"] = ua }
    if auth ~= nil and auth ~= "" then h["Authorization"] = auth end
    reqs[#reqs + 1] = wrk.format("GET", path, h)
  end
  f:close()
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  return reqs[math.random(#reqs)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT req_s=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
