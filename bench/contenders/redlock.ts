import { Redis } from 'ioredis';
import { BenchClient, Contender, hostPort } from './contender';

/** The part of redlock 4's API used here (it ships no types). */
interface RedlockLock {
  unlock(): Promise<void>;
}
interface Redlock {
  lockWithOptions(resource: string, ttl: number, options: { retryCount: number }): Promise<RedlockLock>;
}
type RedlockConstructor = new (clients: Redis[], options: { retryCount: number }) => Redlock;

/** Its defaults: retry every 200 ± 100 ms. It has no wait time, only a retry count. */
const REDLOCK_RETRY_DELAY_MS = 200;

export const redlock: Contender = {
  id: 'redlock',
  backend: 'redis',
  package: 'redlock',
  describe: 'one redis, default retryDelay 200 ms ± 100 ms jitter; unbounded: retryCount -1; waitTime: retryCount = waitTime / 200',
  async connect(servers): Promise<BenchClient> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped CommonJS package
    const RedlockClass = require('redlock') as RedlockConstructor;
    const client = new Redis(hostPort(servers.redis));
    const locks = new RedlockClass([client], { retryCount: -1 });
    return {
      async acquire(key, options) {
        const retryCount = options.waitTime === undefined ? -1 : Math.max(1, Math.round(options.waitTime / REDLOCK_RETRY_DELAY_MS));
        const lock = await locks.lockWithOptions(key, options.ttl, { retryCount });
        return { release: () => lock.unlock() };
      },
      close: async () => void (await client.quit()),
    };
  },
};
