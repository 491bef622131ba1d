import { Redis } from 'ioredis';
import { sleep } from '../helpers/wait';

/** What the fault worker needs of a lock: nest-locker's Lock has all of it. */
export interface TakenLock {
  readonly fencingToken: bigint;
  readonly held: boolean;
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

/** A broken control's lock: `held` until released (it never looks at time), a signal that never aborts. */
function takenLock(fencingToken: bigint, remove: () => Promise<unknown>): TakenLock {
  let held = true;
  return {
    fencingToken,
    get held() {
      return held;
    },
    signal: new AbortController().signal,
    release: async () => {
      held = false;
      await remove();
    },
  };
}

/**
 * The control: a lock with the classic bugs (check, then set, in two round trips; release without an owner
 * check; `held` that never looks at time). The checker must find it unsafe, or the checker proves nothing.
 */
export async function openBrokenLock(addr: string, node: string) {
  const [host, port] = addr.split(':');
  const client = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1 });
  await client.ping();
  return {
    async acquire(key: string, ttl: number): Promise<TakenLock> {
      for (;;) {
        if ((await client.get(`broken:${key}`)) === null) {
          await client.set(`broken:${key}`, node, 'PX', ttl);
          const token = BigInt(await client.incr(`broken:${key}:fence`));
          return takenLock(token, () => client.del(`broken:${key}`));
        }
        await sleep(5);
      }
    },
    close: () => client.quit(),
  };
}

/**
 * The control for permits: a semaphore with the classic bug (count the holders, then add one, in two round
 * trips), as hand-rolled ones have it. The checker must find more than `limit` holders at once.
 */
export async function openBrokenSemaphore(addr: string, node: string, limit: number) {
  const [host, port] = addr.split(':');
  const client = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1 });
  await client.ping();
  return {
    async acquire(key: string): Promise<TakenLock> {
      for (;;) {
        if ((await client.scard(`broken-semaphore:${key}`)) < limit) {
          await sleep(2); // what such code does between its check and its add (a log line, a metric), widened
          const token = BigInt(await client.incr(`broken-semaphore:${key}:fence`));
          const member = `${node}:${token}`;
          await client.sadd(`broken-semaphore:${key}`, member);
          return takenLock(token, () => client.srem(`broken-semaphore:${key}`, member));
        }
        await sleep(5);
      }
    },
    close: () => client.quit(),
  };
}
