/**
 * Lua run atomically on the server. Owner checks happen here, never in the client, so a stale holder
 * cannot release or extend the next holder's lock. Fair-mode queue places are timed by the server's
 * clock (TIME), so clients' clocks never matter. Best one redis.call a line: Redis 7.0 tells of a call its
 * ACL refused only by its line, and the driver names the command from it (see parseRedisRefusal).
 */

/**
 * How a script tells waiters: PUBLISH (every node of a cluster carries it) or, on a Redis 7 cluster,
 * SPUBLISH (only the node that owns the channel's slot, which is the lock's: they share the hash tag).
 */
export type ReleaseAnnouncing = 'PUBLISH' | 'SPUBLISH';

/** The `announce(channel, message)` every script that tells waiters calls: put before the script's body. */
export const announcePrelude = (announcing: ReleaseAnnouncing): string =>
  `local function announce(channel, message) return redis.call('${announcing}', channel, message) end\n`;

/** How long an idle fencing counter is kept; after that the server clock alone keeps tokens growing. */
export const FENCE_IDLE_MS = 86_400_000;

/**
 * Drops lapsed places from the head of the queue and returns the live head (or nil) and when its place
 * lapses. Places further back are dropped when they reach the head. Without a queue (the common case)
 * it costs one LINDEX. Scripts publish only through `announce` (see announcePrelude).
 */
export const LIVE_QUEUE_HEAD = `
local function server_time()
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000), now
end
local function leave_queue(queue, leases, ttls, owner)
  redis.call('LREM', queue, 1, owner)
  redis.call('ZREM', leases, owner)
  redis.call('HDEL', ttls, owner)
end
local function live_queue_head(queue, leases, ttls)
  local head = redis.call('LINDEX', queue, 0)
  if not head then return nil end
  local now_ms = server_time()
  while head do
    local lapses = tonumber(redis.call('ZSCORE', leases, head) or '0')
    if lapses > now_ms then return head, lapses end
    redis.call('LPOP', queue)
    redis.call('ZREM', leases, head)
    redis.call('HDEL', ttls, head)
    head = redis.call('LINDEX', queue, 0)
  end
  return nil
end
`;

/**
 * The lock's next fencing token, stored in the fence key: max(last + 1, server time in µs), where last
 * is the fence counter or, when a restart without persistence lost it, `floor` (the highest token the
 * caller was given, for any key): the counter makes it strictly increasing; the server clock and the
 * floor keep it growing after such a restart (the floor also when the server's clock is now behind the
 * tokens it gave before).
 */
export const NEXT_TOKEN = `
local function next_token(fence, idle_ms, floor)
  local _, now = server_time()
  local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local last = tonumber(redis.call('GET', fence) or floor)
  local token = string.format('%.0f', math.max(last + 1, micros))
  redis.call('SET', fence, token, 'PX', idle_ms)
  return token
end
`;

/**
 * Gives a free lock to the live head of the queue: SET to its owner for the TTL it queued with, a new
 * fencing token, its place popped, and the message "<token> <owner>". With no one queued the message is
 * empty (anyone may try). Returns the owner and token, or nil.
 */
const GRANT_TO_HEAD = `${LIVE_QUEUE_HEAD}${NEXT_TOKEN}
local function grant_to_head(lock, fence, queue, leases, ttls, channel, idle_ms, floor)
  local head = live_queue_head(queue, leases, ttls)
  while head do
    local ttl = redis.call('HGET', ttls, head)
    leave_queue(queue, leases, ttls, head)
    if ttl then
      redis.call('SET', lock, head, 'PX', ttl)
      local token = next_token(fence, idle_ms, floor)
      announce(channel, token .. ' ' .. head)
      return head, token
    end
    head = live_queue_head(queue, leases, ttls) -- a place without a TTL (an older version's) is skipped
  end
  announce(channel, '')
  return nil
end
`;

/**
 * KEYS: lock, fence, queue, queue leases, queue TTLs. ARGV: owner, ttl ms, fence idle ms, queue place ms
 * (0 = do not queue), fence floor (see next_token), grant lease ms.
 * Returns {1, token} when taken, {2, token} when a release granted it to this owner already (its lease
 * started then, not now), {0, ms, fence} when busy: ms until the holder's lease or, if sooner, the place
 * of the waiter first in the queue runs out, and the fence now. A free lock with a live queue head is busy
 * for everyone else, so no one jumps the queue. A waiter (place > 0) takes or renews its place at the end
 * of the queue, with the lease a grant gives it (the grantee's keep-alive extends it; one that died lets
 * it run out). A release grants the lock to the first live place.
 */
export const ACQUIRE_SCRIPT = `${LIVE_QUEUE_HEAD}${NEXT_TOKEN}
local head, head_lapses = live_queue_head(KEYS[3], KEYS[4], KEYS[5])
if (not head or head == ARGV[1]) and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if head == ARGV[1] then leave_queue(KEYS[3], KEYS[4], KEYS[5], ARGV[1]) end
  return {1, next_token(KEYS[2], ARGV[3], ARGV[5])}
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- granted to us by a release (or our earlier attempt took it and its reply was lost): the fence holds our token
  return {2, redis.call('GET', KEYS[2])}
end
local now_ms = server_time()
local place = tonumber(ARGV[4])
if place > 0 then
  if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
    redis.call('RPUSH', KEYS[3], ARGV[1])
  end
  redis.call('ZADD', KEYS[4], now_ms + place, ARGV[1])
  redis.call('HSET', KEYS[5], ARGV[1], ARGV[6])
  for i = 3, 5 do redis.call('PEXPIRE', KEYS[i], place * 2) end
end
local retry_in = redis.call('PTTL', KEYS[1])
if head and head ~= ARGV[1] then
  -- someone else is first in the queue: look again when their place would lapse, in case they died
  local lapses_in = head_lapses - now_ms
  if retry_in <= 0 or lapses_in < retry_in then retry_in = lapses_in end
end
-- with the fence as it is now: a grant heard with a token up to it came before this attempt and is gone
return {0, math.max(retry_in, 0), redis.call('GET', KEYS[2]) or '0'}
`;

/**
 * KEYS: lock, fence, queue, queue leases, queue TTLs. ARGV: owner, channel, fence idle ms, fence floor.
 * A waiter that gives up leaves its place. If a release granted it the lock meanwhile, the lock goes on
 * to the next waiter; so it does if the lock is free (a lapsed lease) and a waiter is queued. Returns
 * 1 when it gave back a granted lock, else 0.
 */
export const LEAVE_QUEUE_SCRIPT = `${GRANT_TO_HEAD}
leave_queue(KEYS[3], KEYS[4], KEYS[5], ARGV[1])
local granted = redis.call('GET', KEYS[1]) == ARGV[1]
if granted then redis.call('DEL', KEYS[1]) end
if granted or (not redis.call('GET', KEYS[1]) and redis.call('LLEN', KEYS[3]) > 0) then
  grant_to_head(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3], ARGV[4])
end
return granted and 1 or 0
`;

/**
 * KEYS: lock, fence, queue, queue leases, queue TTLs. ARGV: owner, channel, fence idle ms, fence floor.
 * Frees only our own lock and grants it to the first live waiter (see grant_to_head). Returns {0} when
 * it was not ours, {1} when released to no one, {1, owner, token} when granted.
 */
export const RELEASE_SCRIPT = `${GRANT_TO_HEAD}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
redis.call('DEL', KEYS[1])
local owner, token = grant_to_head(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3], ARGV[4])
if owner then return {1, owner, token} end
return {1}
`;

/**
 * KEYS: lock, fence, queue, queue leases, queue TTLs. ARGV: channel, fence idle ms. Deletes the lock
 * whoever holds it and grants it on as a release does; the fence key stays, so the next holder's token
 * is higher. The holder learns it when its next renewal finds the lock no longer its own.
 */
export const FORCE_RELEASE_SCRIPT = `${GRANT_TO_HEAD}
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
grant_to_head(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], '0')
return 1
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
