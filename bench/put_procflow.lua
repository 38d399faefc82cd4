-- PUT /organizations/{org}/runs/{run} against procflow, with the reference's body.
-- Reads BENCH_ORG, BENCH_TOKEN and BENCH_RUNS (default 100000) from the environment;
-- run i has the id string.format("%032x", i), as bench/seed.py creates it.
local org = os.getenv("BENCH_ORG")
local token = os.getenv("BENCH_TOKEN")
local runs = tonumber(os.getenv("BENCH_RUNS") or "100000")
if not org or not token then
  error("set BENCH_ORG and BENCH_TOKEN (bench/seed.py prints them)")
end

math.randomseed(os.time())
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
local body = '{"name":"Onboarding - Globex Corp (Updated)","summary":"Updated summary notes for this run.","prevent_guest_comment":true}'

request = function()
  local i = math.random(0, runs - 1)
  local path = string.format("/organizations/%s/runs/%032x", org, i)
  return wrk.format(nil, path, nil, body)
end
