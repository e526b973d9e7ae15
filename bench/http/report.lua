-- wrk script for bench/http/run.py: after the run, print one machine-readable line
--
--   WRK_REPORT {"requests":..,"duration_us":..,"bytes":..,"rps":..,
--               "errors":{"connect":..,"read":..,"write":..,"status":..,"timeout":..},
--               "latency_us":{"min":..,"mean":..,"stdev":..,"max":..,"p50":..,"p90":..,"p99":..,"p99_9":..}}
--
-- `errors.status` is wrk's "Non-2xx or 3xx responses"; connect + read + write + timeout are its
-- "Socket errors". Latencies are in microseconds, as wrk records them. Requests themselves are
-- wrk's default (the URL and any -H header given on the command line).

local function num(x)
   -- Plain decimal: JSON has no inf/nan, and wrk's floats must not print as 1e+06 in integers.
   if x ~= x or x == math.huge or x == -math.huge then
      return "null"
   end
   if x == math.floor(x) and math.abs(x) < 2^53 then
      return string.format("%d", x)
   end
   return string.format("%.3f", x)
end

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   local rps = 0
   if seconds > 0 then
      rps = summary.requests / seconds
   end
   io.write(string.format(
      'WRK_REPORT {"requests":%s,"duration_us":%s,"bytes":%s,"rps":%s,' ..
      '"errors":{"connect":%s,"read":%s,"write":%s,"status":%s,"timeout":%s},' ..
      '"latency_us":{"min":%s,"mean":%s,"stdev":%s,"max":%s,"p50":%s,"p90":%s,"p99":%s,"p99_9":%s}}\n',
      num(summary.requests), num(summary.duration), num(summary.bytes), num(rps),
      num(e.connect), num(e.read), num(e.write), num(e.status), num(e.timeout),
      num(latency.min), num(latency.mean), num(latency.stdev), num(latency.max),
      num(latency:percentile(50)), num(latency:percentile(90)),
      num(latency:percentile(99)), num(latency:percentile(99.9))))
end
