import { setImmediate as yieldOnce } from 'node:timers/promises';
import type { BenchClient } from '../contenders/contender';
import { now } from '../report/stats';

/** One critical section: who held the lock, from when (reply received) to when (release sent). */
export interface Acquisition {
  worker: string;
  acquiredAt: number;
  releasedAt: number;
}

/** acquire → tiny critical section → release, until `stopAt`; the lock's TTL is long enough never to lapse. */
export async function contend(client: BenchClient, key: string, worker: string, stopAt: number): Promise<Acquisition[]> {
  const done: Acquisition[] = [];
  while (now() < stopAt) {
    const held = await client.acquire(key, { ttl: 10_000 });
    const acquiredAt = now();
    await yieldOnce();
    const releasedAt = now();
    await held.release();
    done.push({ worker, acquiredAt, releasedAt });
  }
  return done;
}
