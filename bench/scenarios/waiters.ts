import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender } from '../contenders/contender';
import { now } from '../report/stats';
import { BenchWorker } from './bench-worker';
import { BenchContext, eachContender, Measured, Scenario } from './scenario';

const WAITERS = 1_000;
const IDLE_WINDOW_MS = 1_000;

async function waitersOnOneKey(context: BenchContext, contender: Contender): Promise<Measured> {
  const work = () => context.inspector.serverWork(contender.backend);
  const clientsBefore = await context.inspector.redisClients();
  const worker = new BenchWorker({
    mode: 'waiters',
    contender: contender.id,
    servers: context.servers,
    key: `waiters-${process.hrtime.bigint()}`,
    count: WAITERS,
  });
  try {
    await worker.waitFor('waiting');
    await sleep(500); // let every waiter settle into waiting
    const connections = contender.backend === 'redis' ? (await context.inspector.redisClients()) - clientsBefore : NaN;
    const idleStart = await work();
    await sleep(IDLE_WINDOW_MS);
    const idleWork = ((await work()) - idleStart) / (IDLE_WINDOW_MS / 1000);
    const handoffStart = await work();
    worker.send('go');
    const releasedAt = await worker.waitFor<number>('releasedAt');
    const stopAt = now() + context.seconds * 1000 * 3;
    while (worker.all('handoffs').length < WAITERS && now() < stopAt) await sleep(50);
    const handoffs = worker.all<number>('handoffs').length;
    const lastAt = Math.max(releasedAt, ...worker.all<number>('at'));
    const handoffWork = (await work()) - handoffStart;
    return {
      metrics: {
        connections,
        idleWork,
        handoffs,
        handoffsPerSec: (handoffs / (lastAt - releasedAt)) * 1000,
        workPerHandoff: handoffWork / Math.max(handoffs, 1),
      },
    };
  } finally {
    await worker.kill();
  }
}

export const waiters: Scenario = {
  id: 'waiters',
  title: `6. ${WAITERS.toLocaleString('en')} waiters on one key in one process`,
  about:
    `One process holds the key and starts ${WAITERS.toLocaleString('en')} waiters on it; after they settle the holder releases and ` +
    'each waiter releases as soon as it gets the lock. Connections are redis clients the process opened; server work is ' +
    'redis commands or etcd gRPC messages, per second while everyone waits and per completed handoff. Each contender gets ' +
    'a bounded time; "handoffs" says how many of the waiters were served in it.',
  rounds: 1,
  columns: [
    { metric: 'connections', label: 'redis connections', digits: 0 },
    { metric: 'idleWork', label: 'server work/s while waiting', digits: 0 },
    { metric: 'handoffs', label: 'handoffs done', digits: 0 },
    { metric: 'handoffsPerSec', label: 'handoffs/s', digits: 0 },
    { metric: 'workPerHandoff', label: 'server work per handoff', digits: 1 },
  ],
  runRound: (context) => eachContender((contender) => waitersOnOneKey(context, contender)),
};
