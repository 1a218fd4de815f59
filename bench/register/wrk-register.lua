-- wrk script for bench/register (not a test): POSTs the prepared, signed SOAP requests in
-- the file named by IKS_BENCH_REQUESTS (bodies separated by NUL bytes), each exactly once,
-- and counts the answers by their <Outcome>. Run with one thread (-t1): the requests are
-- handed out in order from one list, and a request sent twice would be a replay.

local requests = {}
local next_request = 1
-- Globals: the main thread reads them from the worker thread with thread:get().
accepted, refused, exhausted = 0, 0, 0
local threads = {}

function setup(thread)
    threads[#threads + 1] = thread
end

function init(args)
    local file = assert(io.open(os.getenv("IKS_BENCH_REQUESTS"), "rb"))
    local text = file:read("*a")
    file:close()
    local headers = { ["Content-Type"] = "application/soap+xml; charset=utf-8", ["Accept-Encoding"] = "gzip, deflate" }
    for body in text:gmatch("([^%z]+)") do
        requests[#requests + 1] = wrk.format("POST", "/ikrs/v1", headers, body)
    end
end

function request()
    local prepared = requests[next_request]
    if prepared == nil then
        -- Out of prepared requests: ask for something harmless rather than replay one.
        exhausted = exhausted + 1
        return wrk.format("GET", "/ikqs/v1/enc")
    end
    next_request = next_request + 1
    return prepared
end

-- A compressed answer does not contain the plain <Outcome> text, so it counts as refused:
-- SOAP answers are sent uncompressed although the request accepts gzip.
function response(status, headers, body)
    if status == 200 and body:find("<Outcome>accepted</Outcome>", 1, true) then
        accepted = accepted + 1
    else
        refused = refused + 1
    end
end

function done(summary, latency)
    local accepted, refused, exhausted = 0, 0, 0
    for _, thread in ipairs(threads) do
        accepted = accepted + thread:get("accepted")
        refused = refused + thread:get("refused")
        exhausted = exhausted + thread:get("exhausted")
    end
    io.write(string.format('IKS-WRK {"accepted":%d,"refused":%d,"exhausted":%d,"errors":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d}\n',
        accepted, refused, exhausted,
        -- Non-2xx answers are counted as refused above, not as errors.
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        summary.duration, latency:percentile(50), latency:percentile(99)))
end
