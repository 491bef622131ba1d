import { createHash, randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { LockerModule, LockerService } from 'nest-locker';
import { Semaphore } from 'redis-semaphore';
import { BenchClient, BenchServers, hostPort, retryUntil } from './contender';

/** Permits or read locks: the shared kinds, each contender's way. */
export type SharedKind = 'permit' | 'read';

/** A contender for the shared kinds: connects one client that takes permits of `limit` (read locks: no limit). */
export interface SharedContender {
  readonly id: string;
  readonly floor?: true;
  readonly describe: string;
  connect(servers: BenchServers, kind: SharedKind, limit: number): Promise<BenchClient>;
}

/** Unbounded waits: redis-semaphore always has an acquireTimeout, so make it longer than any run. */
const FOREVER_MS = 1_000_000_000;
/** A limit no read lock reaches: redis-semaphore has no read lock, and a reader is a permit of an unbounded semaphore. */
const READERS = 1_000_000;

/**
 * KEYS: holders, writer. ARGV: owner, limit, ttl ms. A hand-written semaphore as small as a correct one can be:
 * lapsed holders dropped by the server's clock, then a place if fewer than `limit` hold (and, for a reader, no
 * writer does); released with ZREM of the owner.
 */
const FLOOR_TAKE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
if #KEYS > 1 and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

const FLOOR_TAKE_SHA = createHash('sha1').update(FLOOR_TAKE).digest('hex');

export const floorShared: SharedContender = {
  id: 'floor (redis)',
  floor: true,
  describe:
    'hand-written: one Lua script by EVALSHA (TIME, ZREMRANGEBYSCORE, ZCARD, a writer EXISTS for a reader, ZADD, PEXPIRE) + ZREM; busy: retry every 1 ms; no keep-alive, no fencing, no queue',
  async connect(servers, kind, limit) {
    const client = new Redis(hostPort(servers.redis));
    await client.script('LOAD', FLOOR_TAKE);
    return {
      acquire: (key, options) =>
        retryUntil(
          async () => {
            const owner = randomUUID();
            const keys = kind === 'read' ? [`${key}:holders`, `${key}:writer`] : [`${key}:holders`];
            const taken = await client.evalsha(FLOOR_TAKE_SHA, keys.length, ...keys, owner, kind === 'read' ? READERS : limit, options.ttl);
            if (!taken) return undefined;
            return { release: async () => void (await client.zrem(keys[0], owner)) };
          },
          1,
          options.waitTime,
        ),
      close: async () => void (await client.quit()),
    };
  },
};

export const nestLockerShared: SharedContender = {
  id: 'nest-locker (redis)',
  describe: 'LockerService.acquirePermit(key, { limit }) / acquireRead(key), keep-alive on (default)',
  async connect(servers, kind, limit) {
    const config = { redis: { addr: servers.redis }, locker: { driver: 'redis', driver_instance_id: 'redis' } };
    const app = await NestFactory.createApplicationContext(LockerModule.forRoot(config), { logger: ['error'] });
    const locker = app.get(LockerService);
    return {
      acquire: (key, { ttl, waitTime, keepAlive }) =>
        kind === 'read'
          ? locker.acquireRead(key, { ttl, waitTime, keepAlive })
          : locker.acquirePermit(key, { limit, ttl, waitTime, keepAlive }),
      close: () => app.close(),
    };
  },
};

export const redisSemaphoreShared: SharedContender = {
  id: 'redis-semaphore',
  describe:
    'Semaphore(client, key, limit), defaults: retryInterval 10 ms, refresh every 0.8 × lockTimeout; a reader is a permit of a limit no one reaches',
  async connect(servers, kind, limit) {
    const client = new Redis(hostPort(servers.redis));
    return {
      async acquire(key, options) {
        const semaphore = new Semaphore(client, key, kind === 'read' ? READERS : limit, {
          lockTimeout: options.ttl,
          acquireTimeout: options.waitTime ?? FOREVER_MS,
          refreshInterval: options.keepAlive === false ? 0 : undefined,
        });
        await semaphore.acquire();
        return { release: () => semaphore.release() };
      },
      close: async () => void (await client.quit()),
    };
  },
};

/** The floor first: ratios are taken against it. */
export const SHARED_CONTENDERS: SharedContender[] = [floorShared, nestLockerShared, redisSemaphoreShared];
