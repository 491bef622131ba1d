import { setTimeout as sleep } from 'node:timers/promises';
import { CONTENDERS } from '../contenders';
import type { Contender } from '../contenders/contender';
import { BenchWorker } from './bench-worker';
import type { BenchContext, RoundRow, Scenario } from './scenario';

const TTL_MS = 3_000;
/** Long enough for every library to renew every lock at least once at TTL 3 s. */
const RENEWAL_WINDOW_MS = 4_000;
/** etcd3's Lock opens a lease and keep-alive per lock; past this many it is not run (the table says so). */
const ETCD3_LOCK_MAX = 2_000;

async function holdMany(context: BenchContext, contender: Contender, count: number): Promise<RoundRow> {
  const row = `${contender.id}, ${count.toLocaleString('en')} locks`;
  if (contender.alwaysKeepsAlive && count > ETCD3_LOCK_MAX) {
    return { row, backend: contender.backend, metrics: { acquireMs: NaN, heapPerLock: NaN, renewalsPerSec: NaN } };
  }
  const worker = new BenchWorker({
    mode: 'many',
    contender: contender.id,
    servers: context.servers,
    key: `many-${process.hrtime.bigint()}`,
    ttl: TTL_MS,
    count,
  });
  try {
    const held = await worker.waitFor<number>('held');
    if (held !== count) throw new Error(`${contender.id} held ${held} of ${count}`);
    const [acquireMs, heapPerLock] = [await worker.waitFor<number>('acquireMs'), await worker.waitFor<number>('heapPerLock')];
    const before = await context.inspector.serverWork(contender.backend);
    await sleep(RENEWAL_WINDOW_MS);
    const renewalsPerSec = ((await context.inspector.serverWork(contender.backend)) - before) / (RENEWAL_WINDOW_MS / 1000);
    return { row, backend: contender.backend, metrics: { acquireMs, heapPerLock, renewalsPerSec } };
  } finally {
    await worker.kill();
  }
}

export const manyKeys: Scenario = {
  id: 'many-keys',
  title: '5. Many keys held at once (keep-alive, TTL 3 s)',
  about:
    `One process takes N distinct keys (500 at a time) and holds them. Heap per lock is the process's heap growth after GC ` +
    `divided by N. Server work is what the server counted while the locks were only being kept alive for ` +
    `${RENEWAL_WINDOW_MS / 1000} s: redis commands/s, or etcd gRPC messages/s (keep-alives, lease grants). redlock and the redis ` +
    `floor do not renew at all, so they cost nothing here and would lose their locks after 3 s. etcd3's Lock is run up to ` +
    `${ETCD3_LOCK_MAX.toLocaleString('en')} locks. Run once (not in every round).`,
  rounds: 1,
  columns: [
    { metric: 'acquireMs', label: 'time to acquire all (ms)', digits: 0 },
    { metric: 'heapPerLock', label: 'heap per lock (bytes)', digits: 0 },
    { metric: 'renewalsPerSec', label: 'server work for renewals (/s)', digits: 0 },
  ],
  async runRound(context) {
    const rows: RoundRow[] = [];
    for (const count of context.manyKeys) for (const contender of CONTENDERS) rows.push(await holdMany(context, contender, count));
    return rows;
  },
};
