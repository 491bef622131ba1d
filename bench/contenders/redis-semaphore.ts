import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { BenchClient, Contender, hostPort } from './contender';

/** Unbounded waits: redis-semaphore always has an acquireTimeout, so make it longer than any run. */
const FOREVER_MS = 1_000_000_000;

export const redisSemaphore: Contender = {
  id: 'redis-semaphore',
  backend: 'redis',
  package: 'redis-semaphore',
  describe: 'Mutex, defaults: retryInterval 10 ms, refresh every 0.8 × lockTimeout; lockTimeout = ttl, acquireTimeout = waitTime',
  async connect(servers): Promise<BenchClient> {
    const client = new Redis(hostPort(servers.redis));
    return {
      async acquire(key, options) {
        const mutex = new Mutex(client, key, {
          lockTimeout: options.ttl,
          acquireTimeout: options.waitTime ?? FOREVER_MS,
          refreshInterval: options.keepAlive === false ? 0 : undefined,
        });
        await mutex.acquire();
        return { release: () => mutex.release() };
      },
      close: async () => void (await client.quit()),
    };
  },
};
