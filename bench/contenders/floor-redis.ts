import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { BenchClient, Contender, hostPort, retryUntil } from './contender';

/** Owner-checked delete: the least a correct Redis lock must do on release. */
const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Hand-written floor: SET NX PX to take, Lua compare-and-delete to release, retry every 1 ms while busy. */
export const floorRedis: Contender = {
  id: 'floor (redis)',
  backend: 'redis',
  floor: true,
  describe: 'hand-written: SET NX PX + Lua compare-and-delete; busy: retry every 1 ms; no keep-alive',
  async connect(servers): Promise<BenchClient> {
    const client = new Redis(hostPort(servers.redis));
    return {
      acquire: (key, options) =>
        retryUntil(
          async () => {
            const owner = randomUUID();
            if (!(await client.set(key, owner, 'PX', options.ttl, 'NX'))) return undefined;
            return { release: async () => void (await client.eval(COMPARE_AND_DELETE, 1, key, owner)) };
          },
          1,
          options.waitTime,
        ),
      close: async () => void (await client.quit()),
    };
  },
};
