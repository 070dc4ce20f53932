-- wrk script for npm run bench and npm run soak (bench/support/wrk.ts starts wrk with it).
-- Configured through the environment, read once per Lua state:
--   WRK_MODE       static (plain GETs of the URL) | generate (POST /api/generate) | soak (mixed)
--   WRK_BODY_FILE  generate: the JSON body to POST
--   WRK_COOKIES    generate/soak: a file of Cookie header values, one per line (signed-in users)
--   WRK_ROTATE     generate: 1 = a new X-Forwarded-For client address for every request
--   WRK_ADDRESSES  how many distinct addresses to cycle through (default 2^24: all of 10.0.0.0/8)
--   WRK_OFFSET     where in that cycle to start (so rounds and runs use fresh addresses)
--   WRK_NONCE      soak: makes each run's cache-miss texts distinct from every other run's
--   WRK_THREADS    the -t given to wrk (threads take turns through the address cycle)
-- done() prints one line "WRK_RESULT {json}" that wrk.ts parses.

local mode = os.getenv("WRK_MODE") or "static"
local addresses = tonumber(os.getenv("WRK_ADDRESSES") or "16777216")
local offset = tonumber(os.getenv("WRK_OFFSET") or "0")
local nonce = os.getenv("WRK_NONCE") or "0"
local thread_total = tonumber(os.getenv("WRK_THREADS") or "1")

local function read_file(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

local function read_lines(path)
  local lines = {}
  if path == nil or path == "" then return lines end
  for line in io.lines(path) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  return lines
end

-- The n-th client address: 10.a.b.c (n below 2^24).
local function address(n)
  n = n % addresses
  return string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- Set by setup() in each thread's own state; threads interleave through the address cycle.
thread_index = 0
local counter = 0
local function next_address()
  counter = counter + 1
  return address(offset + counter * thread_total + thread_index)
end

if mode == "generate" then
  local body = read_file(os.getenv("WRK_BODY_FILE"))
  local cookies = read_lines(os.getenv("WRK_COOKIES"))
  local rotate = os.getenv("WRK_ROTATE") == "1"
  local headers = { ["Content-Type"] = "application/json" }
  if #cookies > 0 then headers["Cookie"] = cookies[1] end
  local fixed
  function init()
    -- Here, not at load time: wrk.format takes the Host header from wrk's table, set by then.
    fixed = wrk.format("POST", "/api/generate", headers, body)
  end
  function request()
    if not rotate then return fixed end
    headers["X-Forwarded-For"] = next_address()
    return wrk.format("POST", "/api/generate", headers, body)
  end
elseif mode == "soak" then
  -- One cycle of 20 requests: 4 health, 9 guest cache hits, 1 guest miss, 3 signed-in hits,
  -- 1 signed-in miss, 2 signed-in history pages. Every guest request comes from the next address.
  local cookies = read_lines(os.getenv("WRK_COOKIES"))
  local hit_body = read_file(os.getenv("WRK_BODY_FILE"))
  local cycle = { "health", "hit", "hit", "user-hit", "hit", "health", "miss", "hit", "user-history", "hit",
                  "health", "hit", "user-hit", "hit", "user-miss", "health", "hit", "user-history", "user-hit", "hit" }
  local json = { ["Content-Type"] = "application/json" }
  local step = 0
  local function user_headers(extra)
    local headers = { ["Cookie"] = cookies[(step % #cookies) + 1], ["X-Forwarded-For"] = next_address() }
    if extra then headers["Content-Type"] = "application/json" end
    return headers
  end
  local function miss_body()
    return string.format('{"text":"soak %s %d %d a distinct evening by the sea","mode":"standard","lang":"en"}', nonce, thread_index, step)
  end
  function request()
    step = step + 1
    local kind = cycle[(step % #cycle) + 1]
    if kind == "health" then
      return wrk.format("GET", "/api/health", {})
    elseif kind == "hit" then
      json["X-Forwarded-For"] = next_address()
      return wrk.format("POST", "/api/generate", json, hit_body)
    elseif kind == "miss" then
      json["X-Forwarded-For"] = next_address()
      return wrk.format("POST", "/api/generate", json, miss_body())
    elseif kind == "user-hit" then
      return wrk.format("POST", "/api/generate", user_headers(true), hit_body)
    elseif kind == "user-miss" then
      return wrk.format("POST", "/api/generate", user_headers(true), miss_body())
    else
      return wrk.format("GET", "/api/generations?limit=10", user_headers(false))
    end
  end
  statuses = {}
  function response(status)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local per_thread = thread:get("statuses")
    if per_thread then
      for status, n in pairs(per_thread) do counts[status] = (counts[status] or 0) + n end
    end
  end
  local parts = {}
  for status, n in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', status, n) end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, table.concat(parts, ",")))
end
