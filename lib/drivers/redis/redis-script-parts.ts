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
 * How long a fence lives after its last token; then it is seeded again from the server clock, above the tokens
 * it gave (see MINT_TOKEN, NEXT_TOKEN).
 */
export const FENCE_IDLE_MS = 86_400_000;

/**
 * `mint_token(fence, time)`, put before every script that mints a token: the new token (a number) and whether
 * the fence was missing (the caller raises a seed above its floor if need be). A token is max(last + 1, the
 * server clock in µs): a fence that is behind the tokens it gave (a replica promoted before it had the last
 * takes, a server back from a snapshot older than them) still mints above them, since its clock is past them.
 * A counter alone (INCR) would give those tokens again. `time`: the script's TIME reply if it read one
 * already (else it is read here): one call fewer on the server.
 */
export const MINT_TOKEN = `
local function mint_token(fence, time)
  local last = redis.call('GET', fence)
  local now = time or redis.call('TIME')
  local token = math.max(tonumber(last or '0') + 1, tonumber(now[1]) * 1000000 + tonumber(now[2]))
  redis.call('SET', fence, string.format('%.0f', token), 'PX', ${FENCE_IDLE_MS})
  return token, not last
end
`;

/** The lock's next fencing token (a number), a seed raised above `floor` (the highest token the caller was given). */
export const NEXT_TOKEN = `
local function next_token(fence, floor)
  local token, seeded = mint_token(fence)
  if not seeded or token > tonumber(floor) then return token end
  token = tonumber(floor) + 1
  redis.call('SET', fence, string.format('%.0f', token), 'PX', ${FENCE_IDLE_MS})
  return token
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
