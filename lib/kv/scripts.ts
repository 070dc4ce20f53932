/**
 * Lua for the Redis implementation of the store port. Each script is one atomic round trip.
 * Time comes from Redis (TIME), so instances with skewed clocks still agree on lease expiry.
 */

/** KEYS[1] counter; ARGV[1] limit, ARGV[2] expire-at epoch ms. Returns {allowed, count, pttl}. */
export const INCREMENT_WITHIN_LIMIT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= tonumber(ARGV[1]) then
  return {0, current, redis.call('PTTL', KEYS[1])}
end
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return {1, count, redis.call('PTTL', KEYS[1])}
`;

/** Lua that sets `now` (epoch ms) from the Redis clock. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Lua that drops the expired leases of the set `setKey` (score = expiry ms) and their entries in
 * the companion hash `sinceKey` (holder -> first acquired ms). Needs `now`.
 */
const pruneLeases = (setKey: string, sinceKey: string): string => `
local expired = redis.call('ZRANGEBYSCORE', ${setKey}, '-inf', now)
if #expired > 0 then
  redis.call('ZREM', ${setKey}, unpack(expired))
  redis.call('HDEL', ${sinceKey}, unpack(expired))
end
`;

/** Lua that gives `holder` a lease until now + `leaseMs`, keeping its `since` on a renewal. */
const takeLease = (setKey: string, sinceKey: string, holder: string, leaseMs: string): string => `
if not redis.call('ZSCORE', ${setKey}, ${holder}) then redis.call('HSET', ${sinceKey}, ${holder}, now) end
redis.call('ZADD', ${setKey}, now + tonumber(${leaseMs}), ${holder})
redis.call('PEXPIRE', ${setKey}, ${leaseMs})
redis.call('PEXPIRE', ${sinceKey}, ${leaseMs})
`;

/**
 * KEYS[1] lease set, KEYS[2] its since hash; ARGV[1] holder, ARGV[2] capacity, ARGV[3] lease ms.
 * Returns {acquired, holders}.
 */
export const LEASE_ACQUIRE = `${NOW}${pruneLeases("KEYS[1]", "KEYS[2]")}
local holders = redis.call('ZCARD', KEYS[1])
local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not mine) and holders >= tonumber(ARGV[2]) then
  return {0, holders}
end
${takeLease("KEYS[1]", "KEYS[2]", "ARGV[1]", "ARGV[3]")}
return {1, redis.call('ZCARD', KEYS[1])}
`;

/** KEYS[1] lease set, KEYS[2] its since hash; ARGV[1] holder. */
export const LEASE_RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 0
`;

/** KEYS[1] lease set, KEYS[2] its since hash. Returns live leases after dropping expired ones. */
export const LEASE_COUNT = `${NOW}${pruneLeases("KEYS[1]", "KEYS[2]")}
return redis.call('ZCARD', KEYS[1])
`;

/** KEYS[1] lease set, KEYS[2] its since hash. Returns {holder, sinceMs, expiresAtMs, ...} of live leases. */
export const LEASE_LIST = `${NOW}${pruneLeases("KEYS[1]", "KEYS[2]")}
local live = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  local holder = live[i]
  out[#out + 1] = holder
  out[#out + 1] = tonumber(redis.call('HGET', KEYS[2], holder) or live[i + 1])
  out[#out + 1] = tonumber(live[i + 1])
end
return out
`;

/**
 * The generation admission step in one round trip, cheapest check first:
 *   cached caption → breaker open → quota reserve → in-flight lease.
 * (The IP blocklist is not here: the route wrapper enforces it from an in-process snapshot.)
 * KEYS: 1 cache, 2 breaker hash, 3 breaker probe, 4 quota counter, 5 lease set, 6 its since hash,
 *       7 cache hits counter, 8 cache misses counter.
 * ARGV: 1 check cache (0/1), 2 quota limit (-1: quota kept elsewhere), 3 quota expire-at ms,
 *       4 holder, 5 capacity, 6 lease ms, 7 breaker cooldown ms, 8 probe lease ms,
 *       9 skip the breaker (0/1: a call to the fallback model),
 *       10 count cache hits/misses (0/1), 11 their expire-at ms.
 * Returns {"hit", value, quotaCount, quotaPttl} | {"open", retryAfterMs}
 *       | {"quota_denied", count, pttl} | {"ok", quotaCount, quotaPttl, leaseAcquired, holders, probe}.
 */
export const GEN_ADMIT = `${NOW}
local function bump(key)
  if ARGV[1] == '1' and ARGV[10] == '1' then
    redis.call('INCR', key)
    if redis.call('PTTL', key) < 0 then redis.call('PEXPIREAT', key, ARGV[11]) end
  end
end
if ARGV[1] == '1' then
  local hit = redis.call('GET', KEYS[1])
  if hit then
    bump(KEYS[7])
    return {'hit', hit, tonumber(redis.call('GET', KEYS[4]) or '0'), redis.call('PTTL', KEYS[4])}
  end
end
local probe = 0
local b = redis.call('HMGET', KEYS[2], 'state', 'opened_at')
if b[1] == 'open' and ARGV[9] ~= '1' then
  local waited = now - tonumber(b[2] or '0')
  local cooldown = tonumber(ARGV[7])
  if waited < cooldown then return {'open', cooldown - waited} end
  if not redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', ARGV[8]) then
    return {'open', math.max(redis.call('PTTL', KEYS[3]), 1)}
  end
  probe = 1
end
bump(KEYS[8])
local count = 0
local pttl = -2
local limit = tonumber(ARGV[2])
if limit >= 0 then
  count = tonumber(redis.call('GET', KEYS[4]) or '0')
  if count >= limit then
    if probe == 1 then redis.call('DEL', KEYS[3]) end
    return {'quota_denied', count, redis.call('PTTL', KEYS[4])}
  end
  count = redis.call('INCR', KEYS[4])
  if redis.call('PTTL', KEYS[4]) < 0 then redis.call('PEXPIREAT', KEYS[4], ARGV[3]) end
  pttl = redis.call('PTTL', KEYS[4])
end
${pruneLeases("KEYS[5]", "KEYS[6]")}
local holders = redis.call('ZCARD', KEYS[5])
local acquired = 0
if holders < tonumber(ARGV[5]) then
  ${takeLease("KEYS[5]", "KEYS[6]", "ARGV[4]", "ARGV[6]")}
  holders = holders + 1
  acquired = 1
end
return {'ok', count, pttl, acquired, holders, probe}
`;

/**
 * The generation settlement in one round trip: store the caption, release the lease, refund
 * the quota, and feed the breaker.
 * KEYS: 1 cache, 2 lease set, 3 its since hash, 4 quota counter, 5 breaker hash, 6 breaker probe.
 * ARGV: 1 cache value ('' none), 2 cache ttl s, 3 holder, 4 refund (0/1),
 *       5 outcome ('success' | 'failure' | 'none'), 6 failure threshold, 7 was probe (0/1).
 * Returns {transition ('' | 'opened' | 'closed'), state}.
 */
export const GEN_SETTLE = `${NOW}
if ARGV[1] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[3])
if ARGV[4] == '1' then
  local current = tonumber(redis.call('GET', KEYS[4]) or '0')
  if current > 0 then redis.call('DECR', KEYS[4]) end
end
local state = redis.call('HGET', KEYS[5], 'state') or 'closed'
local transition = ''
local wasProbe = ARGV[7] == '1'
if wasProbe and redis.call('GET', KEYS[6]) == ARGV[3] then
  redis.call('DEL', KEYS[6])
end
if ARGV[5] == 'success' then
  if state == 'open' and wasProbe then
    transition = 'closed'
    state = 'closed'
  end
  if state == 'closed' then
    redis.call('HSET', KEYS[5], 'state', 'closed', 'failures', 0)
  end
elseif ARGV[5] == 'failure' then
  if wasProbe then
    redis.call('HSET', KEYS[5], 'state', 'open', 'opened_at', now)
    transition = state == 'open' and '' or 'opened'
    state = 'open'
  elseif state ~= 'open' then
    local failures = redis.call('HINCRBY', KEYS[5], 'failures', 1)
    if failures >= tonumber(ARGV[6]) then
      redis.call('HSET', KEYS[5], 'state', 'open', 'opened_at', now)
      transition = 'opened'
      state = 'open'
    end
  end
end
redis.call('PEXPIRE', KEYS[5], 86400000)
return {transition, state}
`;

/**
 * KEYS[1] breaker hash; ARGV[1] state ('open' | 'closed'), ARGV[2] keep open for ms (-1: opened
 * now), ARGV[3] cooldown ms. Operator reset / force-open, on the Redis clock like admission.
 */
export const BREAKER_WRITE = `${NOW}
local opened = 0
if ARGV[1] == 'open' then
  opened = now
  local forMs = tonumber(ARGV[2])
  if forMs >= 0 then opened = now + forMs - tonumber(ARGV[3]) end
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'failures', 0, 'opened_at', opened)
redis.call('PEXPIRE', KEYS[1], 86400000)
return 0
`;

/**
 * One SCAN step over string keys. ARGV[1] cursor, ARGV[2] MATCH pattern, ARGV[3] COUNT,
 * ARGV[4] delete them (0/1). Returns {next cursor, keys seen (or deleted)}.
 */
export const SCAN_KEYS = `
local reply = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', tonumber(ARGV[3]), 'TYPE', 'string')
local keys = reply[2]
local n = #keys
if ARGV[4] == '1' and n > 0 then n = redis.call('DEL', unpack(keys)) end
return {reply[1], n}
`;

/** KEYS[1] breaker hash. Returns {state, failures, openedAt} without changing anything. */
export const BREAKER_READ = `
local b = redis.call('HMGET', KEYS[1], 'state', 'failures', 'opened_at')
return {b[1] or 'closed', tonumber(b[2] or '0'), tonumber(b[3] or '0')}
`;

/**
 * KEYS[1] blocklist hash; ARGV[1] id, ARGV[2] entry JSON, ARGV[3] its expiry (epoch ms, the
 * caller's clock). Adds the entry and makes the hash outlive its longest entry (never shorter).
 */
export const BLOCKLIST_ADD = `${NOW}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local want = tonumber(ARGV[3]) - now
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
if ttl == -1 and want > 0 then redis.call('PEXPIRE', KEYS[1], want) end
return 0
`;

/**
 * KEYS[1] blocklist hash; ARGV[1] now (epoch ms, the caller's clock, as entries' expiries are).
 * Deletes expired and unreadable entries and returns the JSON of the others.
 */
export const BLOCKLIST_LIST = `
local now = tonumber(ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local ok, entry = pcall(cjson.decode, all[i + 1])
  if ok and type(entry) == 'table' and type(entry.expiresAtMs) == 'number' and entry.expiresAtMs > now then
    live[#live + 1] = all[i + 1]
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return live
`;

/** KEYS[1] hash; ARGV[1] ttl seconds, then field, increment pairs. HINCRBY each, then EXPIRE. */
export const HASH_INCREMENT = `
for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 0
`;

/** KEYS: hashes. Returns one HGETALL reply (a flat field, value list) per key. */
export const HASH_READ_MANY = `
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('HGETALL', KEYS[i])
end
return out
`;

/**
 * KEYS[1] hash; ARGV[1] field, ARGV[2] value, ARGV[3] ttl seconds, ARGV[4] mode ('set': always,
 * 'absent': only when the field is absent, 'equal': only when it holds ARGV[5]). Returns 1 when written.
 */
export const HASH_SET = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[4] == 'absent' and current then return 0 end
if ARGV[4] == 'equal' and current ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;
