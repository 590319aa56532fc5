-- wrk script for `make bench` (bench/run_bench.py).
--
--   wrk ... -s bench/wrk.lua URL -- get
--       GET the URL's path (the floor: /healthz).
--   wrk ... -s bench/wrk.lua URL -- post <api key> <bodies file> [<threads>]
--       POST one JSON body per line of <bodies file>, cycling, with `Authorization: Bearer <api key>`.
--       With <threads> (wrk's -t), thread i starts at the i-th of <threads> equal slices of the file,
--       so no body is sent twice before some thread has sent its whole slice (flags: each request a
--       new flag). Without it, thread i starts 7919 × i lines in and reaches thread i+1's start after
--       7919 requests, whatever the file's size.
--
-- Every response's status is counted per thread; done() prints one line
--   BENCH_JSON {...}
-- with requests, duration, latency percentiles (microseconds), status counts and socket errors,
-- so run_bench.py never has to parse wrk's human-readable report.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests = {}
local next_index = 1
statuses = {}
non2xx = 0

function init(args)
  local mode = args[1] or "get"
  if mode == "post" then
    local key, path = args[2], args[3]
    local headers = {
      ["Authorization"] = "Bearer " .. key,
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
    }
    for line in io.lines(path) do
      if #line > 0 then
        table.insert(requests, wrk.format("POST", nil, headers, line))
      end
    end
    if #requests == 0 then
      error("no request bodies in " .. path)
    end
  else
    requests = { wrk.format("GET", nil, { ["Accept"] = "application/json" }) }
  end
  local slices = tonumber(args[4])
  if mode == "post" and slices then
    next_index = math.floor(id * #requests / slices) % #requests + 1
  else
    -- Threads start at different offsets so they do not ask for the same buyers in lockstep.
    next_index = (id * 7919) % #requests + 1
  end
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local codes, bad = {}, 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local s = thread:get("statuses") or {}
    for code, n in pairs(s) do
      codes[code] = (codes[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(codes) do
    table.insert(parts, string.format('"%s": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "mean": %.1f, "max": %d}, '
      .. '"non2xx": %d, "statuses": {%s}, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "wrk_status_errors": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    bad, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout, e.status
  ))
end
