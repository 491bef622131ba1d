import { Redis } from 'ioredis';

/**
 * The redis protocol of the version before the lean one (nest-locker at 5982451), as one of its nodes speaks
 * it, for the rolling-deploy tests: its acquire and release scripts verbatim, and its waiting (a place in the
 * queue, woken by a grant that names it, or asking again every FAIR_PLACE_MS / 3). No keep-alive: the tests
 * hold its locks briefly.
 */

const LIVE_QUEUE_HEAD = `
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

const NEXT_TOKEN = `
local function next_token(fence, idle_ms, floor)
  local _, now = server_time()
  local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local last = tonumber(redis.call('GET', fence) or floor)
  local token = string.format('%.0f', math.max(last + 1, micros))
  redis.call('SET', fence, token, 'PX', idle_ms)
  return token
end
`;

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

/** KEYS: lock, fence, queue, queue leases, queue TTLs. ARGV: owner, ttl ms, fence idle ms, queue place ms, fence floor, grant lease ms. */
const ACQUIRE_SCRIPT = `${LIVE_QUEUE_HEAD}${NEXT_TOKEN}
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
  if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then redis.call('RPUSH', KEYS[3], ARGV[1]) end
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

/** KEYS: lock, fence, queue, queue leases, queue TTLs. ARGV: owner, channel, fence idle ms, fence floor. */
const RELEASE_SCRIPT = `${GRANT_TO_HEAD}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
redis.call('DEL', KEYS[1])
local owner, token = grant_to_head(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3], ARGV[4])
if owner then return {1, owner, token} end
return {1}
`;

const announce = "local function announce(channel, message) return redis.call('PUBLISH', channel, message) end\n";
const FENCE_IDLE_MS = 86_400_000;
const FAIR_PLACE_MS = 2_000;

/** A lock taken by a previous-version node. */
export interface PreviousVersionLock {
  token: bigint;
  release(): Promise<void>;
}

/** One node of the previous version: its own command and subscriber connections, its own owner ids. */
export class PreviousVersionNode {
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly prefix = `previous${process.pid}.${process.pid}.previous-host:`;
  private owners = 0;
  private floor = '0';
  /** Per channel, the waiter's wake-up: a grant message names its owner. */
  private readonly listeners = new Map<string, (message: string) => void>();

  constructor(addr: string) {
    const [host, port] = addr.split(':');
    this.client = new Redis({ host, port: Number(port), commandTimeout: 5_000 });
    this.subscriber = this.client.duplicate();
    this.subscriber.on('message', (channel: string, message: string) => this.listeners.get(channel)?.(message));
  }

  async acquire(key: string, ttl = 60_000): Promise<PreviousVersionLock> {
    const lock = `nest-locker:{${key}}`;
    const keys = [lock, `${lock}:fence`, `${lock}:queue`, `${lock}:queue-leases`, `${lock}:queue-ttls`];
    const channel = `${lock}:released`;
    const owner = this.prefix + (++this.owners).toString(36);
    let granted: string | undefined;
    let wake: () => void = () => undefined;
    this.listeners.set(channel, (message) => {
      const [token, named] = message.split(' ');
      if (named === owner) granted = token;
      wake();
    });
    await this.subscriber.subscribe(channel);
    try {
      for (;;) {
        const [taken, value] = (await this.client.eval(
          ACQUIRE_SCRIPT,
          5,
          ...keys,
          owner,
          ttl,
          FENCE_IDLE_MS,
          FAIR_PLACE_MS,
          this.floor,
          Math.min(ttl, FAIR_PLACE_MS),
        )) as [number, string | number];
        if (taken !== 0) return this.held(keys, channel, owner, String(value));
        if (granted) return this.held(keys, channel, owner, granted);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(Number(value) + 1, FAIR_PLACE_MS / 3));
        });
        if (granted) return this.held(keys, channel, owner, granted);
      }
    } finally {
      this.listeners.delete(channel);
      await this.subscriber.unsubscribe(channel);
    }
  }

  private held(keys: string[], channel: string, owner: string, token: string): PreviousVersionLock {
    if (BigInt(token) > BigInt(this.floor)) this.floor = token;
    return {
      token: BigInt(token),
      release: async () => void (await this.client.eval(announce + RELEASE_SCRIPT, 5, ...keys, owner, channel, FENCE_IDLE_MS, this.floor)),
    };
  }

  close(): void {
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}
