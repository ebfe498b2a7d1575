-- wrk script for bench/load.py: cycles through prepared requests read from a TSV file
-- (method, path, bearer token, body) and prints one JSON line with the figures.
--   wrk -t2 -c32 -d10s -s bench/wrk.lua http://127.0.0.1:18100 -- requests.tsv

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

local requests = {}
local n = 0
local i = 0

function init(args)
   for line in io.lines(args[1]) do
      local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Authorization"] = "Bearer " .. token }
      if body == "" then
         body = nil
      else
         headers["Content-Type"] = "application/json"
      end
      n = n + 1
      requests[n] = wrk.format(method, path, headers, body)
   end
   -- Threads start at different places in the list.
   i = (id or 0) * 7919
end

function request()
   i = i + 1
   return requests[(i % n) + 1]
end

function done(summary, latency, _)
   local e = summary.errors
   print(string.format(
      'BENCH_RESULT {"requests": %d, "errors": %d, "duration_us": %d, '
         .. '"p50_us": %d, "p90_us": %d, "p99_us": %d}',
      summary.requests, e.connect + e.read + e.write + e.status + e.timeout, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
