import { FENCE_IDLE_MS, LIVE_QUEUE_HEAD, NEXT_TOKEN } from './redis-script-parts';

/**
 * Lua for the kinds that share a key (permits, read/write locks): one rule over one queue. KEYS are the
 * lock's names (redisKeyNames): 1 writer (the exclusive holder, as a mutex keeps it), 2 shared holders
 * (owner → lease end, server ms), 3 their tokens, 4 fence, 5 queue, 6 queue place leases, 7 queue info
 * ("<grant lease> <kind> <limit>"). Kinds are `r` (reader), `w` (writer), `p` (permit). An entry may hold
 * when no one waits ahead of it and the holders let it: no writer, and for a writer no shared holder, for a
 * permit fewer than its limit. Owner checks and lease times are the server's, as for the mutex. The holders
 * and their tokens are kept at least FENCE_IDLE_MS (or the longest lease) after the latest take, so that a
 * holder that died is forgotten then even if no one asks again.
 */
const SHARED_HOLDERS = `
local function prune(now)
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  if #lapsed > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
    -- Lua unpacks at most ~8,000 values at once, fewer than a key may have holders
    for from = 1, #lapsed, 1000 do
      redis.call('HDEL', KEYS[3], unpack(lapsed, from, math.min(from + 999, #lapsed)))
    end
  end
end
local function hold(kind, owner, lease, now, token)
  if kind == 'w' then
    redis.call('SET', KEYS[1], owner, 'PX', lease)
  else
    local kept = math.max(lease, ${FENCE_IDLE_MS})
    redis.call('ZADD', KEYS[2], now + lease, owner)
    redis.call('HSET', KEYS[3], owner, token)
    redis.call('PEXPIRE', KEYS[2], kept)
    redis.call('PEXPIRE', KEYS[3], kept)
  end
end
`;

const SHARED_RULE = `${LIVE_QUEUE_HEAD}${NEXT_TOKEN}${SHARED_HOLDERS}
local function allowed(kind, limit)
  if redis.call('EXISTS', KEYS[1]) == 1 then return false end
  if kind == 'r' then return true end
  local held = redis.call('ZCARD', KEYS[2])
  if kind == 'w' then return held == 0 end
  return held < limit
end
local function take(kind, owner, lease, now, floor)
  local token = string.format('%.0f', next_token(KEYS[4], floor))
  hold(kind, owner, lease, now, token)
  return token
end
local function token_held(kind, owner)
  if kind == 'w' then
    if redis.call('GET', KEYS[1]) == owner then return redis.call('GET', KEYS[4]) end
  elseif redis.call('ZSCORE', KEYS[2], owner) then
    return redis.call('HGET', KEYS[3], owner)
  end
  return nil
end
local function give_up(kind, owner)
  if kind == 'w' then
    if redis.call('GET', KEYS[1]) ~= owner then return false end
    redis.call('DEL', KEYS[1])
    return true
  end
  redis.call('HDEL', KEYS[3], owner)
  return redis.call('ZREM', KEYS[2], owner) == 1
end
local function grant_waiters(now, channel, floor)
  local granted = {}
  local head = live_queue_head(KEYS[5], KEYS[6], KEYS[7])
  while head do
    local lease, kind, limit = string.match(redis.call('HGET', KEYS[7], head) or '', '^(%d+) (%a) (%d+)$')
    if lease and not allowed(kind, tonumber(limit)) then break end
    leave_queue(KEYS[5], KEYS[6], KEYS[7], head)
    if lease then
      granted[#granted + 1] = head
      granted[#granted + 1] = take(kind, head, tonumber(lease), now, floor)
    end
    head = live_queue_head(KEYS[5], KEYS[6], KEYS[7])
  end
  if #granted > 0 then
    local message = {}
    for i = 1, #granted, 2 do message[#message + 1] = granted[i + 1] .. ' ' .. granted[i] end
    announce(channel, table.concat(message, ' '))
  end
  return granted
end
`;

/**
 * KEYS writer, holders, tokens, fence, queue. ARGV: owner, kind, limit, ttl ms. The uncontended path: takes
 * the lock when no one waits and the holders let it. Returns the token (minus the token when the fence was
 * seeded from the server clock alone: see TAKE_SCRIPT), 0 when the holders do not let it, nil when someone
 * is queued (SHARED_ACQUIRE_SCRIPT decides then).
 */
export const SHARED_TAKE_SCRIPT = `${SHARED_HOLDERS}
if redis.call('EXISTS', KEYS[5]) == 1 then return false end
local kind = ARGV[2]
if kind ~= 'p' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
prune(now)
if kind ~= 'r' and redis.call('ZCARD', KEYS[2]) >= (kind == 'w' and 1 or tonumber(ARGV[3])) then return 0 end
local token, seeded = mint_token(KEYS[4], time)
hold(kind, ARGV[1], tonumber(ARGV[4]), now, string.format('%.0f', token))
return seeded and -token or token
`;

/**
 * ARGV: owner, kind, limit, ttl ms, queue place ms (0 = do not queue), fence floor, grant lease ms.
 * Returns {1, token} when taken, {2, token} when it holds already (a release granted it, or an earlier
 * attempt whose reply was lost), {0, ms, fence} when busy: ms until a holder's lease or the queue head's
 * place lapses. A waiter takes or renews its place at the end of the queue.
 */
export const SHARED_ACQUIRE_SCRIPT = `${SHARED_RULE}
local now = server_time()
prune(now)
local mine = token_held(ARGV[2], ARGV[1])
if mine then return {2, mine} end
local head, head_lapses = live_queue_head(KEYS[5], KEYS[6], KEYS[7])
if (not head or head == ARGV[1]) and allowed(ARGV[2], tonumber(ARGV[3])) then
  if head == ARGV[1] then leave_queue(KEYS[5], KEYS[6], KEYS[7], ARGV[1]) end
  return {1, take(ARGV[2], ARGV[1], tonumber(ARGV[4]), now, ARGV[6])}
end
local place = tonumber(ARGV[5])
if place > 0 then
  if not redis.call('ZSCORE', KEYS[6], ARGV[1]) then redis.call('RPUSH', KEYS[5], ARGV[1]) end
  redis.call('ZADD', KEYS[6], now + place, ARGV[1])
  redis.call('HSET', KEYS[7], ARGV[1], ARGV[7] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3])
  for i = 5, 7 do redis.call('PEXPIRE', KEYS[i], place * 2) end
end
local retry_in = redis.call('PTTL', KEYS[1])
local soonest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]
local lapses = {soonest and tonumber(soonest), head and head ~= ARGV[1] and head_lapses}
for _, at in pairs(lapses) do
  if at and (retry_in <= 0 or at - now < retry_in) then retry_in = at - now end
end
return {0, math.max(retry_in, 0), redis.call('GET', KEYS[4]) or '0'}
`;

/**
 * KEYS holders, tokens, queue. ARGV: owner. A permit's or reader's release when no one is queued: 1, or 0 when
 * it was not ours; 2 when someone is queued (it is left held: SHARED_RELEASE_SCRIPT grants on).
 */
export const SHARED_RELEASE_LEAN_SCRIPT = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 2 end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

/**
 * ARGV: owner, kind, channel, fence floor. Frees only our own hold; when someone is queued, grants the
 * lock to the waiters at the head of the queue that its rule lets in, announcing "<token> <owner> ...".
 * Returns 0 when it was not ours, 1 when no one is queued, else {1, owner, token, owner, token, ...} for
 * the grants.
 */
export const SHARED_RELEASE_SCRIPT = `${SHARED_RULE}
if not give_up(ARGV[2], ARGV[1]) then return 0 end
if redis.call('EXISTS', KEYS[5]) == 0 then return 1 end
local now = server_time()
prune(now)
local reply = {1}
for _, value in ipairs(grant_waiters(now, ARGV[3], ARGV[4])) do reply[#reply + 1] = value end
return reply
`;

/**
 * ARGV: owner, kind, channel, fence floor. A waiter that gives up leaves its place; a
 * hold granted to it meanwhile is given up too. Either may let the waiters behind it in (a writer that
 * leaves lets the readers after it hold). Returns 1 when it gave back a granted hold, else 0.
 */
export const SHARED_LEAVE_QUEUE_SCRIPT = `${SHARED_RULE}
leave_queue(KEYS[5], KEYS[6], KEYS[7], ARGV[1])
local granted = give_up(ARGV[2], ARGV[1])
local now = server_time()
prune(now)
grant_waiters(now, ARGV[3], ARGV[4])
return granted and 1 or 0
`;

/**
 * ARGV: channel. Removes every holder (the writer, or every shared holder) and grants on
 * as a release does; the fence stays. Returns 1 if anyone held.
 */
export const SHARED_FORCE_RELEASE_SCRIPT = `${SHARED_RULE}
local now = server_time()
prune(now)
local held = redis.call('DEL', KEYS[1]) + redis.call('ZCARD', KEYS[2])
redis.call('DEL', KEYS[2], KEYS[3])
grant_waiters(now, ARGV[1], '0')
return held > 0 and 1 or 0
`;

/**
 * KEYS writer, holders, tokens, fence. ARGV: owner, kind, floor. Our hold's token made higher than `floor`
 * (a seed behind it): the new token, or nil when not ours.
 */
export const SHARED_RAISE_FENCE_SCRIPT = `
local holds
if ARGV[2] == 'w' then holds = redis.call('GET', KEYS[1]) == ARGV[1] else holds = redis.call('ZSCORE', KEYS[2], ARGV[1]) end
if not holds then return false end
local token = string.format('%.0f', math.max(tonumber(redis.call('GET', KEYS[4]) or '0'), tonumber(ARGV[3])) + 1)
redis.call('SET', KEYS[4], token, 'PX', ${FENCE_IDLE_MS})
if ARGV[2] ~= 'w' then redis.call('HSET', KEYS[3], ARGV[1], token) end
return token
`;

/** KEYS: shared holders of each lock. ARGV: owner1, ttl1, owner2, ttl2, ... Returns 1/0 per lock: renewed / not ours. */
export const SHARED_RENEW_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local renewed = {}
for i = 1, #KEYS do
  local owner, ttl = ARGV[2 * i - 1], tonumber(ARGV[2 * i])
  local lapses = redis.call('ZSCORE', KEYS[i], owner)
  if lapses and tonumber(lapses) > now then
    redis.call('ZADD', KEYS[i], now + ttl, owner)
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
    renewed[i] = 1
  else
    renewed[i] = 0
  end
end
return renewed
`;

/**
 * KEYS as above. The holders as {owner, lease ms left, token, kind} ..., the queue length, and whether
 * anyone holds; nil when no one does.
 */
export const SHARED_INSPECT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local holders = {}
local writer = redis.call('GET', KEYS[1])
if writer then holders[1] = {writer, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[4]) or '0', 'write'} end
local shared = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf', 'WITHSCORES')
for i = 1, #shared, 2 do
  local token = redis.call('HGET', KEYS[3], shared[i]) or '0'
  holders[#holders + 1] = {shared[i], tonumber(shared[i + 1]) - now, token, ARGV[1]}
end
if #holders == 0 then return false end
return {holders, redis.call('LLEN', KEYS[5])}
`;
