/**
 * Lua run atomically on the server. Owner checks happen here, never in the client, so a stale holder
 * cannot release or extend the next holder's lock.
 */

/** How long an idle fencing counter is kept; after that the server clock alone keeps tokens growing. */
export const FENCE_IDLE_MS = 86_400_000;

/**
 * KEYS: lock, fence. ARGV: owner, ttl ms, fence idle ms.
 * Returns {1, token} when taken (also when the same owner took it already), {0, pttl} when busy. The token is max(last + 1, server time in µs):
 * the counter makes it strictly increasing, the server clock keeps it growing after a restart that lost
 * the counter (no persistence), since no key is acquired more than once per microsecond.
 */
export const ACQUIRE_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local now = redis.call('TIME')
  local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local last = tonumber(redis.call('GET', KEYS[2]) or '0')
  local token = string.format('%.0f', math.max(last + 1, micros))
  redis.call('SET', KEYS[2], token, 'PX', ARGV[3])
  return {1, token}
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- our earlier attempt took it but its reply was lost: the fence holds our token, since we hold the lock
  return {1, redis.call('GET', KEYS[2])}
end
return {0, redis.call('PTTL', KEYS[1])}
`;

/** KEYS: lock. ARGV: owner, channel. Deletes only our own lock and tells waiters. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '')
  return 1
end
return 0
`;

/** KEYS: locks. ARGV: owner1, ttl1, owner2, ttl2, ... Returns 1/0 per lock: renewed / not ours. */
export const RENEW_SCRIPT = `
local renewed = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2 * i - 1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
    renewed[i] = 1
  else
    renewed[i] = 0
  end
end
return renewed
`;
