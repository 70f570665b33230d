-- Shared by rate.lua and page.lua: a monotonic clock, a JSON writer, percentiles.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")

function bench_now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

function bench_json(value)
  local kind = type(value)
  if kind == "table" then
    local parts = {}
    for k, v in pairs(value) do
      parts[#parts + 1] = string.format("%q", tostring(k)) .. ":" .. bench_json(v)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "number" then
    if value ~= value then return "null" end
    if value == math.floor(value) and math.abs(value) < 1e15 then
      return string.format("%d", value)
    end
    return string.format("%.6g", value)
  elseif kind == "nil" then
    return "null"
  end
  return string.format("%q", tostring(value))
end

function bench_percentile(sorted, p)
  if #sorted == 0 then return nil end
  local index = math.max(1, math.min(#sorted, math.ceil(p / 100 * #sorted)))
  return sorted[index]
end

function bench_errors(summary)
  local e = summary.errors
  return {connect = e.connect, read = e.read, write = e.write, status = e.status,
          timeout = e.timeout}
end

-- a list of milliseconds as a JSON array, 0.01 ms resolution
function bench_ms_list(values)
  local parts = {}
  for i, v in ipairs(values) do
    parts[i] = string.format("%.2f", v / 1000)
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

-- every thread's list ``name``, in one list
function bench_gather(threads, name)
  local all = {}
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get(name)) do
      all[#all + 1] = v
    end
  end
  return all
end
