import { FENCE_IDLE_MS, LIVE_QUEUE_HEAD, NEXT_TOKEN } from './redis-script-parts';

/**
 * The mutex's (and a leader's) scripts. The lock key holds its owner with the lease as its TTL; the fence
 * key keeps the last token (see MINT_TOKEN); waiters have a place in a queue (a list, their places' leases in a
 * sorted set, the TTL each asked for in a hash) that exists only while someone waits. The uncontended path is
 * two short scripts, TAKE and RELEASE_LEAN: SET NX + the next token, then GET + EXISTS + DEL, with integer
 * replies. The others run only where someone waits. Best one redis.call a line: Redis 7.0 tells of a call its
 * ACL refused only by its line, and the driver names the command from it (see parseRedisRefusal).
 */

/**
 * KEYS: lock, fence. ARGV: owner, ttl ms. Takes a free lock, whoever may be queued (a default-mode acquire
 * may take a key that fell free while its waiters sleep: the next release grants it on). Returns the token,
 * or minus the token when the fence was missing and has been seeded from the server clock alone (the caller
 * raises it above its floor if need be: RAISE_FENCE_SCRIPT); 0 when held.
 */
export const TAKE_SCRIPT = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local token, seeded = mint_token(KEYS[2])
return seeded and -token or token
`;

/** KEYS: lock, fence, queue. As TAKE_SCRIPT, for a fair acquire: nil while anyone is queued (ACQUIRE_SCRIPT decides then). */
export const TAKE_FAIR_SCRIPT = `
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
${TAKE_SCRIPT}`;

/**
 * KEYS: lock, queue. ARGV: owner. Frees our own lock when no one waits: 1; 0 when not ours; 2 when someone
 * is queued (it is left held: RELEASE_SCRIPT grants it on).
 */
export const RELEASE_LEAN_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
redis.call('DEL', KEYS[1])
return 1
`;

/** KEYS: lock, fence. ARGV: owner, floor. Our lock's token made higher than `floor` (a seed behind it): the new token, or nil when not ours. */
export const RAISE_FENCE_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local token = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(ARGV[2])) + 1
redis.call('SET', KEYS[2], string.format('%.0f', token), 'PX', ${FENCE_IDLE_MS})
return token
`;

/**
 * Gives a free lock to the live head of the queue: SET to its owner for the TTL it queued with, a new
 * fencing token, its place popped, and the message "<token> <owner>". Returns the owner and token, or nil
 * (no one live is queued).
 */
const GRANT_TO_HEAD = `${LIVE_QUEUE_HEAD}${NEXT_TOKEN}
local function grant_to_head(lock, fence, queue, leases, ttls, channel, floor)
  local head = live_queue_head(queue, leases, ttls)
  while head do
    local ttl = redis.call('HGET', ttls, head)
    leave_queue(queue, leases, ttls, head)
    if ttl then
      redis.call('SET', lock, head, 'PX', ttl)
      local token = string.format('%.0f', next_token(fence, floor))
      announce(channel, token .. ' ' .. head)
      return head, token
    end
    head = live_queue_head(queue, leases, ttls) -- a place without a TTL (an older version's) is skipped
  end
  return nil
end
`;

/**
 * KEYS: lock, fence, queue, queue leases, queue TTLs, fair waiters. ARGV: owner, ttl ms, queue place ms
 * (0 = do not queue), fence floor, grant lease ms, fair (1/0).
 * Returns {1, token} when taken, {2, token} when a release granted it to this owner already (its lease
 * started then, not now), {0, ms, fence} when busy: ms until the holder's lease or, if sooner, the place
 * of the waiter first in the queue runs out, and the fence now. A free lock with a live queue head is busy
 * for everyone else, so no one jumps the queue. A waiter (place > 0) takes or renews its place at the end
 * of the queue, with the lease a grant gives it (the grantee's keep-alive extends it; one that died lets
 * it run out); a fair one marks the queue so that no process keeps a released lock for itself meanwhile.
 */
export const ACQUIRE_SCRIPT = `${LIVE_QUEUE_HEAD}${NEXT_TOKEN}
local head, head_lapses = live_queue_head(KEYS[3], KEYS[4], KEYS[5])
if (not head or head == ARGV[1]) and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if head == ARGV[1] then leave_queue(KEYS[3], KEYS[4], KEYS[5], ARGV[1]) end
  return {1, string.format('%.0f', next_token(KEYS[2], ARGV[4]))}
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- granted to us by a release (or our earlier attempt took it and its reply was lost): the fence holds our token
  return {2, redis.call('GET', KEYS[2])}
end
local now_ms = server_time()
local place = tonumber(ARGV[3])
if place > 0 then
  if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
    redis.call('RPUSH', KEYS[3], ARGV[1])
  end
  redis.call('ZADD', KEYS[4], now_ms + place, ARGV[1])
  redis.call('HSET', KEYS[5], ARGV[1], ARGV[5])
  for i = 3, 5 do redis.call('PEXPIRE', KEYS[i], place * 2) end
  if ARGV[6] == '1' then redis.call('SET', KEYS[6], '1', 'PX', place * 2) end
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
 * KEYS: lock, fence, queue, queue leases, queue TTLs, fair waiters. ARGV: owner, channel, fence floor,
 * keep ms, announce (1/0).
 * Frees only our own lock and grants it to the first live waiter (see grant_to_head). With `keep` > 0 and
 * a live waiter of another process first in line (none of them fair), the lock is kept for us instead, that
 * long, for a retake here (RETAKE_SCRIPT) or a release that passes it on. `announce`: an empty message
 * tells listeners when it went to no one. Returns {0} when it was not ours, {1} when released to no one,
 * {1, owner, token} when granted, {3} when kept.
 */
export const RELEASE_SCRIPT = `${GRANT_TO_HEAD}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local keep = tonumber(ARGV[4])
if keep > 0 and redis.call('EXISTS', KEYS[6]) == 0 then
  local head = live_queue_head(KEYS[3], KEYS[4], KEYS[5])
  local process = string.match(ARGV[1], '^(.*:)')
  if head and string.sub(head, 1, #process) ~= process then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', keep)
    return {3}
  end
end
redis.call('DEL', KEYS[1])
local owner, token = grant_to_head(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3])
if owner then return {1, owner, token} end
if ARGV[5] == '1' then announce(ARGV[2], '') end
return {1}
`;

/**
 * KEYS: lock, fence, queue, queue leases, queue TTLs, fair waiters. ARGV: owner, next owner (a waiter of the
 * same process), its ttl ms, fence floor, may pass over (1/0), channel.
 * Our release that hands the lock to a waiter of our own process in the same step (a new owner, a new
 * token), unless a live waiter of another process is first in line and may not be passed over (`pass` 0, or
 * a fair waiter queued): then it is granted to that one, as RELEASE_SCRIPT does. Returns {0} when not ours,
 * {4, token, passed} when handed over (passed: 1 if another process's waiter was first in line), {1, owner,
 * token} when granted, {1} when released to no one.
 */
export const HANDOFF_SCRIPT = `${GRANT_TO_HEAD}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local head = live_queue_head(KEYS[3], KEYS[4], KEYS[5])
local process = string.match(ARGV[1], '^(.*:)')
local remote = head and string.sub(head, 1, #process) ~= process
if remote and (ARGV[5] ~= '1' or redis.call('EXISTS', KEYS[6]) == 1) then
  redis.call('DEL', KEYS[1])
  local owner, token = grant_to_head(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[6], ARGV[4])
  if owner then return {1, owner, token} end
  return {1}
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if redis.call('ZSCORE', KEYS[4], ARGV[2]) then leave_queue(KEYS[3], KEYS[4], KEYS[5], ARGV[2]) end
return {4, string.format('%.0f', next_token(KEYS[2], ARGV[4])), remote and 1 or 0}
`;

/**
 * KEYS: lock, queue, fair waiters. ARGV: owner, keep ms. The release of a hot default-mode mutex while
 * someone waits: kept for a retake here (RETAKE_SCRIPT) that long, with no one else let in meanwhile.
 * Returns 3 when kept, 0 when not ours, 1 when freed because no one waits any more, 2 when a fair waiter is
 * queued (it is left held: RELEASE_SCRIPT grants it on).
 */
export const KEEP_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 2 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 3
`;

/**
 * KEYS: lock, fence. ARGV: owner it was kept under, new owner (of the same process, with no place in the
 * queue), ttl ms. A lock kept at its release (KEEP_SCRIPT, RELEASE_SCRIPT) taken back. Returns the new token
 * (minus it when the fence was seeded: see TAKE_SCRIPT), or 0 when it is no longer kept.
 */
export const RETAKE_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local token, seeded = mint_token(KEYS[2])
return seeded and -token or token
`;
/**
 * KEYS: lock, fence, queue, queue leases, queue TTLs. ARGV: owner, channel, fence floor.
 * A waiter that gives up leaves its place. If a release granted it the lock meanwhile, the lock goes on
 * to the next waiter; so it does if the lock is free (a lapsed lease) and a waiter is queued. Returns
 * 1 when it gave back a granted lock, else 0.
 */
export const LEAVE_QUEUE_SCRIPT = `${GRANT_TO_HEAD}
leave_queue(KEYS[3], KEYS[4], KEYS[5], ARGV[1])
local granted = redis.call('GET', KEYS[1]) == ARGV[1]
if granted then redis.call('DEL', KEYS[1]) end
if granted or (not redis.call('GET', KEYS[1]) and redis.call('LLEN', KEYS[3]) > 0) then
  grant_to_head(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3])
end
return granted and 1 or 0
`;

/**
 * KEYS: lock, fence, queue, queue leases, queue TTLs. ARGV: channel. Deletes the lock whoever holds it and
 * grants it on as a release does, announcing even to no one; the fence key stays, so the next holder's token
 * is higher. The holder learns it when its next renewal finds the lock no longer its own.
 */
export const FORCE_RELEASE_SCRIPT = `${GRANT_TO_HEAD}
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
if not grant_to_head(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], '0') then announce(ARGV[1], '') end
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
