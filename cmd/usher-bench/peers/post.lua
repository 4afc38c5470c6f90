-- One POST, the same for every request: the body and the Authorization header
-- come from the environment (run.sh sets them). done() prints one line run.sh
-- parses: successful requests (2xx/3xx), failed ones, and the latency.
wrk.method = "POST"
wrk.body = os.getenv("PEERS_BODY") or ""
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local auth = os.getenv("PEERS_AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
  local e = summary.errors
  local failed = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format("PEERS ok=%d failed=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests - e.status, failed, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
