import type { BenchAcquireOptions } from '../contenders/contender';
import { SHARED_CONTENDERS, SharedContender, SharedKind } from '../contenders/shared-kinds';
import { now } from '../report/stats';
import { analyse } from './contention';
import { Acquisition, contend } from './contention-loop';
import { Column, contenderSelected, Measured, RoundRow, Scenario } from './scenario';
import { timeCycles, UNCONTENDED_COLUMNS } from './uncontended';

/** The permits of the uncontended permit cycle, and of the hot key shared by eight apps. */
const LIMIT = 5;
const HOT_LIMIT = 2;
const APPS = 8;
const AS_CALLED: BenchAcquireOptions = { ttl: 60_000, waitTime: 5_000 };

/** Each shared-kinds contender in turn, one row each (BENCH_CONTENDERS applies). */
async function eachShared(measure: (contender: SharedContender) => Promise<Measured>): Promise<RoundRow[]> {
  const rows: RoundRow[] = [];
  for (const contender of SHARED_CONTENDERS) {
    if (!contenderSelected(contender.id)) continue;
    rows.push({ row: contender.id, backend: 'redis', isFloor: contender.floor, ...(await measure(contender)) });
  }
  return rows;
}

const uncontendedShared = (kind: SharedKind, id: string, title: string, what: string): Scenario => ({
  id,
  title,
  about:
    `One client, one key, back-to-back ${what} → release with a wait time of 5 s (TTL 60 s, each library's default keep-alive), ` +
    "against a hand-written floor (one Lua script on a sorted set, ZREM to release) and redis-semaphore's Semaphore. " +
    'Columns as in 1.',
  columns: UNCONTENDED_COLUMNS,
  runRound: (context) =>
    eachShared(async (contender) => {
      const client = await contender.connect(context.servers, kind, LIMIT);
      const key = `${id}-${contender.id}-${process.hrtime.bigint()}`;
      try {
        const cycle = async () => await (await client.acquire(key, AS_CALLED)).release();
        return { metrics: await timeCycles(cycle, context.seconds, () => context.inspector.serverCpuUs('redis')) };
      } finally {
        await client.close();
      }
    }),
});

export const uncontendedPermit = uncontendedShared(
  'permit',
  'uncontended-permit',
  `7a. Uncontended permit (limit ${LIMIT}) + release`,
  `acquirePermit(key, { limit: ${LIMIT} })`,
);

export const uncontendedRead = uncontendedShared('read', 'uncontended-read', '7b. Uncontended read lock + release', 'acquireRead(key)');

/** The most holders at one instant (must be at most the limit). */
function mostHolders(acquisitions: Acquisition[]): number {
  const events = acquisitions.flatMap(({ acquiredAt, releasedAt }) => [
    [acquiredAt, 1],
    [releasedAt, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, change] of events) most = Math.max(most, (open += change));
  return most;
}

const HOT_COLUMNS: Column[] = [
  { metric: 'acquisitionsPerSec', label: 'acq/s', digits: 0 },
  { metric: 'acquisitionsPerSec', label: '× floor (time)', ratio: 'rate', digits: 2 },
  { metric: 'starvation', label: 'max/min per worker', digits: 2 },
  { metric: 'waitP50', label: 'wait p50 ms', digits: 2 },
  { metric: 'worstNodeWaitP99', label: 'worst p99 of a worker ms', digits: 2 },
  { metric: 'mostHolders', label: 'most holders at once', digits: 0 },
];

export const contentionPermitApps: Scenario = {
  id: 'contention-permit-8-apps',
  title: `7c. Hot permits: ${APPS} apps in one process, each with its own connections, one key of ${HOT_LIMIT} permits`,
  about:
    `As 2c, with a permit of limit ${HOT_LIMIT} instead of a mutex: each app acquires, yields once, releases, again. ` +
    `max/min compares the best and the least served app (∞: one got nothing); "most holders at once" must not pass ${HOT_LIMIT}. ` +
    "The per-node table is in 2c's form.",
  columns: HOT_COLUMNS,
  runRound: (context) =>
    eachShared(async (contender) => {
      const clients = await Promise.all(Array.from({ length: APPS }, () => contender.connect(context.servers, 'permit', HOT_LIMIT)));
      const key = `hot-permit-${contender.id}-${process.hrtime.bigint()}`;
      try {
        const started = now();
        const stopAt = started + context.seconds * 1000;
        const runs = (await Promise.all(clients.map((client, i) => contend(client, key, String(i), stopAt)))).flat();
        const { metrics, perNode } = analyse(runs, APPS, now() - started);
        return { metrics: { ...metrics, mostHolders: mostHolders(runs) }, perNode };
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
    }),
};
