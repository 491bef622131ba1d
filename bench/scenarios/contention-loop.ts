import { setImmediate as yieldOnce } from 'node:timers/promises';
import type { BenchClient } from '../contenders/contender';
import { now } from '../report/stats';

/** One critical section: who held the lock, from when (reply received) to when (release sent), after asking when. */
export interface Acquisition {
  worker: string;
  askedAt: number;
  acquiredAt: number;
  releasedAt: number;
}

/** acquire → tiny critical section → release, until `stopAt`; the lock's TTL is long enough never to lapse. */
export async function contend(client: BenchClient, key: string, worker: string, stopAt: number): Promise<Acquisition[]> {
  const done: Acquisition[] = [];
  while (now() < stopAt) {
    const askedAt = now();
    const held = await client.acquire(key, { ttl: 10_000 });
    const acquiredAt = now();
    await yieldOnce();
    const releasedAt = now();
    await held.release();
    done.push({ worker, askedAt, acquiredAt, releasedAt });
  }
  return done;
}
