-- One signed-in page, again and again on each connection (run with -t N -c N).
-- Arguments after `--`: the path and the Cookie header (the session of a real sign-in).
package.path = debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua;" .. package.path
require("common")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local prepared, started
ok, failed, bytes = 0, 0, 0
statuses = {}
request_us = {}

function init(args)
  prepared = wrk.format("GET", args[1], {["Cookie"] = args[2]})
end

function request()
  started = bench_now_us()
  return prepared
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 200 then
    request_us[#request_us + 1] = bench_now_us() - started
    ok = ok + 1
    bytes = bytes + #body
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local result = {ok = 0, failed = 0, bytes = 0, statuses = {}}
  for _, t in ipairs(threads) do
    result.ok = result.ok + t:get("ok")
    result.failed = result.failed + t:get("failed")
    result.bytes = result.bytes + t:get("bytes")
    for k, v in pairs(t:get("statuses")) do
      result.statuses[k] = (result.statuses[k] or 0) + v
    end
  end
  result.duration_s = summary.duration / 1e6
  result.requests = summary.requests
  result.errors = bench_errors(summary)
  result.per_s = result.ok / result.duration_s
  result.body_bytes = result.ok > 0 and result.bytes / result.ok or 0
  local all = bench_gather(threads, "request_us")
  table.sort(all)
  result.p50_ms = (bench_percentile(all, 50) or 0) / 1000
  result.p99_ms = (bench_percentile(all, 99) or 0) / 1000
  local text = bench_json(result)
  io.write("BENCH_JSON " .. text:sub(1, -2) .. ',"lat_ms":' .. bench_ms_list(all) .. "}\n")
end
