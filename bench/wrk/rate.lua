-- The customer's rating, pair after pair on each connection (run with -t N -c N):
-- GET /r/<token> (a fresh random `rid` phone cookie per pair, no session yet), read the
-- csrf_token and one-time view_token from the form and the session cookie from Set-Cookie,
-- then POST the form with stars=5 and a comment; a pair succeeds on 303.
-- Arguments after `--`: the paths /r/<token> of the windows; the pairs of a connection go
-- to them in turn (each connection starting at another one).
package.path = debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua;" .. package.path
require("common")

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local COMMENT = "%E6%9C%8D%E5%8A%A1%E5%BE%88%E5%A5%BD%EF%BC%8C%E8%B0%A2%E8%B0%A2" -- 服务很好,谢谢
local paths, path, turn = {}, nil, 0
local csrf, view, session, rid, started
local next_kind, in_flight = "get", nil
local answered = 0 -- responses so far (wrk calls request() once on thread 1 to check it)

pairs_ok, get_fail, post_fail, parse_fail, lost = 0, 0, 0, 0, 0
statuses = {}
pair_us = {}

local function phone_id()
  local t = {}
  for i = 1, 22 do
    local k = math.random(1, 64)
    t[i] = ALPHABET:sub(k, k)
  end
  return table.concat(t)
end

function init(args)
  for i = 1, #args do
    paths[i] = args[i]
  end
  turn = thread_id
  math.randomseed(thread_id * 7919 + os.time() + math.floor(bench_now_us() % 1000003))
end

function request()
  if in_flight ~= nil then -- the last request got no response (socket error): start over
    if answered > 0 then lost = lost + 1 end
    next_kind = "get"
  end
  if next_kind == "get" then
    turn = turn + 1
    path = paths[turn % #paths + 1]
    rid = phone_id()
    started = bench_now_us()
    in_flight = "get"
    return wrk.format("GET", path, {["Cookie"] = "rid=" .. rid})
  end
  in_flight = "post"
  local form = "csrf_token=" .. csrf .. "&view_token=" .. view .. "&stars=5&comment=" .. COMMENT
  return wrk.format("POST", path, {["Cookie"] = "rid=" .. rid .. "; " .. session,
                                   ["Content-Type"] = "application/x-www-form-urlencoded"}, form)
end

function response(status, headers, body)
  local kind = in_flight
  in_flight = nil
  answered = answered + 1
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  next_kind = "get"
  if kind == "get" then
    if status ~= 200 then
      get_fail = get_fail + 1
      return
    end
    csrf = body:match('name="csrf_token"[^>]-value="([^"]*)"')
    view = body:match('name="view_token"[^>]-value="([^"]*)"')
    local cookie = headers["Set-Cookie"] or headers["set-cookie"]
    session = cookie and cookie:match("^([^;]*)")
    if csrf and view and session then
      next_kind = "post"
    else
      parse_fail = parse_fail + 1
    end
  elseif kind == "post" then
    if status == 303 then
      pairs_ok = pairs_ok + 1
      pair_us[#pair_us + 1] = bench_now_us() - started
    else
      post_fail = post_fail + 1
    end
  end
end

function done(summary, latency, requests)
  local result = {pairs_ok = 0, get_fail = 0, post_fail = 0, parse_fail = 0, lost = 0,
                  statuses = {}}
  local all = bench_gather(threads, "pair_us")
  for _, t in ipairs(threads) do
    for _, name in ipairs({"pairs_ok", "get_fail", "post_fail", "parse_fail", "lost"}) do
      result[name] = result[name] + t:get(name)
    end
    for k, v in pairs(t:get("statuses")) do
      result.statuses[k] = (result.statuses[k] or 0) + v
    end
  end
  table.sort(all)
  result.duration_s = summary.duration / 1e6
  result.requests = summary.requests
  result.errors = bench_errors(summary)
  result.pairs_per_s = result.pairs_ok / result.duration_s
  result.pair_p50_ms = (bench_percentile(all, 50) or 0) / 1000
  result.pair_p99_ms = (bench_percentile(all, 99) or 0) / 1000
  result.request_p50_ms = latency:percentile(50) / 1000
  result.request_p99_ms = latency:percentile(99) / 1000
  local text = bench_json(result)
  io.write("BENCH_JSON " .. text:sub(1, -2) .. ',"lat_ms":' .. bench_ms_list(all) .. "}\n")
end
