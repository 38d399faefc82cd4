-- PUT with a summary no other request sends, counting the 200s: every acknowledged PUT
-- must leave exactly one activity record of its summary (bench/pg_workers.py checks).
-- Reads BENCH_ORG, BENCH_TOKEN, BENCH_RUNS like put_procflow.lua.
local org = os.getenv("BENCH_ORG")
local token = os.getenv("BENCH_TOKEN")
local runs = tonumber(os.getenv("BENCH_RUNS") or "100000")
local threads = {}
local id = 0

setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

init = function()
  ok = 0
  counter = 0
  math.randomseed(os.time() + id)
  wrk.method = "PUT"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

request = function()
  counter = counter + 1
  local i = math.random(0, runs - 1)
  local path = string.format("/organizations/%s/runs/%032x", org, i)
  local body = string.format('{"summary":"unique-%d-%d"}', id, counter)
  return wrk.format(nil, path, nil, body)
end

response = function(status, headers, body)
  if status == 200 then
    ok = ok + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("ok")
  end
  io.write(string.format("acknowledged: %d\n", total))
end
