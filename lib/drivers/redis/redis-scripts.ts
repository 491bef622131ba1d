/**
 * Lua run atomically on the server. Owner checks happen here, never in the client, so a stale holder
 * cannot release or extend the next holder's lock. Fair-mode queue places are timed by the server's
 * clock (TIME), so clients' clocks never matter.
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
 * Drops lapsed places from the head of the fair queue and returns the live head (or nil) and when its
 * place lapses. Places further back are dropped when they reach the head. Without a queue (the common
 * case) it costs one LINDEX.
 */
export const LIVE_QUEUE_HEAD = `
local function server_time()
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000), now
end
local function live_queue_head(queue, leases)
  local head = redis.call('LINDEX', queue, 0)
  if not head then return nil end
  local now_ms = server_time()
  while head do
    local lapses = tonumber(redis.call('ZSCORE', leases, head) or '0')
    if lapses > now_ms then return head, lapses end
    redis.call('LPOP', queue)
    redis.call('ZREM', leases, head)
    head = redis.call('LINDEX', queue, 0)
  end
  return nil
end
`;

/**
 * KEYS: lock, fence, queue, queue leases. ARGV: owner, ttl ms, fence idle ms, queue place ms (0 = do not
 * queue), fence floor (the highest token the caller was given, for any key).
 * Returns {1, token} when taken (also when the same owner took it already), {0, ms} when busy: ms until
 * the holder's lease or, if sooner, another fair waiter's place at the head of the queue runs out. A free lock with a live queue head is busy for
 * everyone else, fair or not, so no one jumps the queue. The token is max(last + 1, server time in µs),
 * where last is the fence counter or, when a restart without persistence lost it, the caller's floor:
 * the counter makes it strictly increasing; the server clock and the floor keep it growing after such a
 * restart (the floor also when the server's clock is now behind the tokens it gave before).
 */
export const ACQUIRE_SCRIPT = `${LIVE_QUEUE_HEAD}
local head, head_lapses = live_queue_head(KEYS[3], KEYS[4])
local now_ms, now = server_time()
if (not head or head == ARGV[1]) and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if head == ARGV[1] then
    redis.call('LPOP', KEYS[3])
    redis.call('ZREM', KEYS[4], ARGV[1])
  end
  local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local last = tonumber(redis.call('GET', KEYS[2]) or ARGV[5])
  local token = string.format('%.0f', math.max(last + 1, micros))
  redis.call('SET', KEYS[2], token, 'PX', ARGV[3])
  return {1, token}
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- our earlier attempt took it but its reply was lost: the fence holds our token, since we hold the lock
  return {1, redis.call('GET', KEYS[2])}
end
local place = tonumber(ARGV[4])
if place > 0 then
  if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then redis.call('RPUSH', KEYS[3], ARGV[1]) end
  redis.call('ZADD', KEYS[4], now_ms + place, ARGV[1])
  redis.call('PEXPIRE', KEYS[3], place * 2)
  redis.call('PEXPIRE', KEYS[4], place * 2)
end
local retry_in = redis.call('PTTL', KEYS[1])
if head and head ~= ARGV[1] then
  -- someone else is first in the fair queue: look again when their place would lapse, in case they died
  local lapses_in = head_lapses - now_ms
  if retry_in <= 0 or lapses_in < retry_in then retry_in = lapses_in end
end
return {0, math.max(retry_in, 0)}
`;

/**
 * KEYS: queue, queue leases. ARGV: owner, channel. A fair waiter that gives up leaves its place; if it
 * was first, the next one is told.
 */
export const LEAVE_QUEUE_SCRIPT = `${LIVE_QUEUE_HEAD}
local first = redis.call('LINDEX', KEYS[1], 0) == ARGV[1]
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if first then announce(ARGV[2], live_queue_head(KEYS[1], KEYS[2]) or '') end
return 1
`;

/**
 * KEYS: lock, queue, queue leases. ARGV: owner, channel. Deletes only our own lock and tells waiters:
 * the message names the fair queue's first waiter, so only its process tries (empty: everyone may).
 */
export const RELEASE_SCRIPT = `${LIVE_QUEUE_HEAD}
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  announce(ARGV[2], live_queue_head(KEYS[2], KEYS[3]) or '')
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
