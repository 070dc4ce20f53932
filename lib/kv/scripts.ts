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

/** KEYS[1] counter. Refunds one, never below zero, keeping the expiry. Returns the new value. */
export const DECREMENT_FLOOR_ZERO = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current <= 0 then
  return 0
end
return redis.call('DECR', KEYS[1])
`;

/** KEYS[1] lease set; ARGV[1] holder, ARGV[2] capacity, ARGV[3] lease ms. Returns {acquired, holders}. */
export const LEASE_ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local holders = redis.call('ZCARD', KEYS[1])
local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not mine) and holders >= tonumber(ARGV[2]) then
  return {0, holders}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, redis.call('ZCARD', KEYS[1])}
`;

/** KEYS[1] lease set. Returns live leases after dropping expired ones. */
export const LEASE_COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`;

/**
 * The generation admission step in one round trip, cheapest check first:
 *   blocklisted IP → cached caption → breaker open → quota reserve → in-flight lease.
 * KEYS: 1 cache, 2 block, 3 breaker hash, 4 breaker probe, 5 quota counter, 6 lease set.
 * ARGV: 1 check cache (0/1), 2 quota limit (-1: quota kept elsewhere), 3 quota expire-at ms,
 *       4 holder, 5 capacity, 6 lease ms, 7 breaker cooldown ms, 8 probe lease ms,
 *       9 skip the breaker (0/1: a call to the fallback model).
 * Returns {"blocked", pttl} | {"hit", value, quotaCount, quotaPttl} | {"open", retryAfterMs}
 *       | {"quota_denied", count, pttl} | {"ok", quotaCount, quotaPttl, leaseAcquired, holders, probe}.
 */
export const GEN_ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'blocked', redis.call('PTTL', KEYS[2])}
end
if ARGV[1] == '1' then
  local hit = redis.call('GET', KEYS[1])
  if hit then
    return {'hit', hit, tonumber(redis.call('GET', KEYS[5]) or '0'), redis.call('PTTL', KEYS[5])}
  end
end
local probe = 0
local b = redis.call('HMGET', KEYS[3], 'state', 'opened_at')
if b[1] == 'open' and ARGV[9] ~= '1' then
  local waited = now - tonumber(b[2] or '0')
  local cooldown = tonumber(ARGV[7])
  if waited < cooldown then return {'open', cooldown - waited} end
  if not redis.call('SET', KEYS[4], ARGV[4], 'NX', 'PX', ARGV[8]) then
    return {'open', math.max(redis.call('PTTL', KEYS[4]), 1)}
  end
  probe = 1
end
local count = 0
local pttl = -2
local limit = tonumber(ARGV[2])
if limit >= 0 then
  count = tonumber(redis.call('GET', KEYS[5]) or '0')
  if count >= limit then
    if probe == 1 then redis.call('DEL', KEYS[4]) end
    return {'quota_denied', count, redis.call('PTTL', KEYS[5])}
  end
  count = redis.call('INCR', KEYS[5])
  if redis.call('PTTL', KEYS[5]) < 0 then redis.call('PEXPIREAT', KEYS[5], ARGV[3]) end
  pttl = redis.call('PTTL', KEYS[5])
end
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
local holders = redis.call('ZCARD', KEYS[6])
local acquired = 0
if holders < tonumber(ARGV[5]) then
  redis.call('ZADD', KEYS[6], now + tonumber(ARGV[6]), ARGV[4])
  redis.call('PEXPIRE', KEYS[6], ARGV[6])
  holders = holders + 1
  acquired = 1
end
return {'ok', count, pttl, acquired, holders, probe}
`;

/**
 * The generation settlement in one round trip: store the caption, release the lease, refund
 * the quota, and feed the breaker.
 * KEYS: 1 cache, 2 lease set, 3 quota counter, 4 breaker hash, 5 breaker probe.
 * ARGV: 1 cache value ('' none), 2 cache ttl s, 3 holder, 4 refund (0/1),
 *       5 outcome ('success' | 'failure' | 'none'), 6 failure threshold, 7 was probe (0/1).
 * Returns {transition ('' | 'opened' | 'closed'), state}.
 */
export const GEN_SETTLE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[3])
if ARGV[4] == '1' then
  local current = tonumber(redis.call('GET', KEYS[3]) or '0')
  if current > 0 then redis.call('DECR', KEYS[3]) end
end
local state = redis.call('HGET', KEYS[4], 'state') or 'closed'
local transition = ''
local wasProbe = ARGV[7] == '1'
if wasProbe and redis.call('GET', KEYS[5]) == ARGV[3] then
  redis.call('DEL', KEYS[5])
end
if ARGV[5] == 'success' then
  if state == 'open' and wasProbe then
    transition = 'closed'
    state = 'closed'
  end
  if state == 'closed' then
    redis.call('HSET', KEYS[4], 'state', 'closed', 'failures', 0)
  end
elseif ARGV[5] == 'failure' then
  if wasProbe then
    redis.call('HSET', KEYS[4], 'state', 'open', 'opened_at', now)
    transition = state == 'open' and '' or 'opened'
    state = 'open'
  elseif state ~= 'open' then
    local failures = redis.call('HINCRBY', KEYS[4], 'failures', 1)
    if failures >= tonumber(ARGV[6]) then
      redis.call('HSET', KEYS[4], 'state', 'open', 'opened_at', now)
      transition = 'opened'
      state = 'open'
    end
  end
end
redis.call('PEXPIRE', KEYS[4], 86400000)
return {transition, state}
`;

/** KEYS[1] breaker hash. Returns {state, failures, openedAt} without changing anything. */
export const BREAKER_READ = `
local b = redis.call('HMGET', KEYS[1], 'state', 'failures', 'opened_at')
return {b[1] or 'closed', tonumber(b[2] or '0'), tonumber(b[3] or '0')}
`;
