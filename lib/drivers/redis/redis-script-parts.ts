/**
 * The Lua every lock script of every kind is built from. Owner checks happen in the scripts, never in the
 * client, so a stale holder cannot release or extend the next holder's lock. Queue places are timed by the
 * server's clock (TIME), so clients' clocks never matter.
 */

/**
 * How a script tells waiters: PUBLISH (every node of a cluster carries it) or, on a Redis 7 cluster,
 * SPUBLISH (only the node that owns the channel's slot, which is the lock's: they share the hash tag).
 */
export type ReleaseAnnouncing = 'PUBLISH' | 'SPUBLISH';

/** The `announce(channel, message)` every script that tells waiters calls: put before the script's body. */
export const announcePrelude = (announcing: ReleaseAnnouncing): string =>
  `local function announce(channel, message) return redis.call('${announcing}', channel, message) end\n`;

/**
 * How long a fencing counter lives after it was seeded (incrementing it keeps its expiry); then it is seeded
 * again from the server clock, far above the tokens it gave (see NEXT_TOKEN).
 */
export const FENCE_IDLE_MS = 86_400_000;

/**
 * Seeds a missing fence with the server clock in µs (`floor` + 1 when that is higher) and returns it. The
 * counter then grows by one per holder, so a fence seeded again later (after FENCE_IDLE_MS, or a restart
 * without persistence) starts far above every token it gave, unless the server clock went back by about
 * that much; the floor (the highest token the caller was given, for any key) covers that for the caller.
 */
export const SEED_FENCE = `
local function seed_fence(fence, floor)
  local now = redis.call('TIME')
  local token = math.max(tonumber(now[1]) * 1000000 + tonumber(now[2]), tonumber(floor) + 1)
  redis.call('SET', fence, string.format('%.0f', token), 'PX', ${FENCE_IDLE_MS})
  return token
end
`;

/** The lock's next fencing token (a number): one more than the last, or a seed (SEED_FENCE) when the fence is gone. */
export const NEXT_TOKEN = `${SEED_FENCE}
local function next_token(fence, floor)
  local token = redis.call('INCR', fence)
  if token > 1 then return token end
  return seed_fence(fence, floor)
end
`;

/**
 * Drops lapsed places from the head of the queue and returns the live head (or nil) and when its place
 * lapses. Places further back are dropped when they reach the head. Scripts publish only through
 * `announce` (see announcePrelude).
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
