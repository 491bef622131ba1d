import type { BenchClient, Contender } from '../contenders/contender';
import { now, percentile } from '../report/stats';
import { BenchWorker } from './bench-worker';
import { Acquisition, contend } from './contention-loop';
import { BenchContext, Column, eachContender, Measured, NodeShare, Scenario } from './scenario';

/**
 * From every critical section of one run: throughput, who got the lock next, how long a handoff to
 * another worker took (its acquire reply minus the previous holder's release call), starvation, and
 * overlaps (a section starting before the previous one ended: two holders at once).
 */
export function analyse(acquisitions: Acquisition[], workers: number, elapsedMs: number): Required<Measured> {
  const sorted = [...acquisitions].sort((a, b) => a.acquiredAt - b.acquiredAt);
  const handoffWaits: number[] = [];
  let violations = 0;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].acquiredAt < sorted[i - 1].releasedAt) violations++;
    if (sorted[i].worker !== sorted[i - 1].worker) handoffWaits.push(sorted[i].acquiredAt - sorted[i - 1].releasedAt);
  }
  const waitsByWorker = new Map<string, number[]>();
  for (const { worker, askedAt, acquiredAt } of sorted) {
    const waits = waitsByWorker.get(worker) ?? [];
    waits.push(acquiredAt - askedAt);
    waitsByWorker.set(worker, waits);
  }
  const perNode: NodeShare[] = [...waitsByWorker.values()]
    .map((waits) => ({ acquisitions: waits.length, waitP50: percentile(waits, 50), waitP99: percentile(waits, 99) }))
    .sort((a, b) => b.acquisitions - a.acquisitions);
  const counts = perNode.map((node) => node.acquisitions);
  const fewest = counts.length < workers ? 0 : Math.min(...counts);
  const allWaits = sorted.map(({ askedAt, acquiredAt }) => acquiredAt - askedAt);
  return {
    metrics: {
      acquisitionsPerSec: (sorted.length / elapsedMs) * 1000,
      handoffShare: sorted.length > 1 ? handoffWaits.length / (sorted.length - 1) : NaN,
      handoffP50: percentile(handoffWaits, 50),
      handoffP99: percentile(handoffWaits, 99),
      maxPerWorker: Math.max(...counts),
      minPerWorker: fewest,
      starvation: fewest === 0 ? Infinity : Math.max(...counts) / fewest,
      waitP50: percentile(allWaits, 50),
      waitP99: percentile(allWaits, 99),
      worstNodeWaitP99: Math.max(...perNode.map((node) => node.waitP99)),
      violations,
    },
    samples: handoffWaits,
    perNode,
  };
}

const COLUMNS: Column[] = [
  { metric: 'acquisitionsPerSec', label: 'acq/s', digits: 0 },
  { metric: 'acquisitionsPerSec', label: '× floor (time)', ratio: 'rate', digits: 2 },
  { metric: 'handoffShare', label: 'to another', digits: 2 },
  { metric: 'handoffP50', label: 'handoff p50 ms', digits: 2 },
  { metric: 'handoffP50', label: 'handoff × floor', ratio: 'time', digits: 2 },
  { metric: 'handoffP50', label: 'p50 in round trips', inRtts: true, digits: 1 },
  { metric: 'handoffP99', label: 'handoff p99 ms', digits: 2 },
  { metric: 'starvation', label: 'max/min per worker', digits: 2 },
  { metric: 'waitP50', label: 'wait p50 ms', digits: 2 },
  { metric: 'waitP99', label: 'wait p99 ms', digits: 2 },
  { metric: 'worstNodeWaitP99', label: 'worst p99 of a worker ms', digits: 2 },
  { metric: 'violations', label: 'overlaps', digits: 0 },
];

async function inProcess(context: BenchContext, contender: Contender, workers: number): Promise<Measured> {
  const client: BenchClient = await contender.connect(context.servers);
  const key = `contention-${contender.id}-${process.hrtime.bigint()}`;
  const started = now();
  const stopAt = started + context.seconds * 1000;
  const runs = await Promise.all(Array.from({ length: workers }, (_, i) => contend(client, key, String(i), stopAt)));
  const elapsed = now() - started;
  await client.close();
  return analyse(runs.flat(), workers, elapsed);
}

/** `nodes` clients in one process, each its own app with its own connections (for nest-locker: its own Nest module). */
async function nodesInProcess(context: BenchContext, contender: Contender, nodes: number): Promise<Measured> {
  const clients = await Promise.all(Array.from({ length: nodes }, () => contender.connect(context.servers)));
  const key = `contention-${contender.id}-${process.hrtime.bigint()}`;
  try {
    const started = now();
    const stopAt = started + context.seconds * 1000;
    const runs = await Promise.all(clients.map((client, i) => contend(client, key, String(i), stopAt)));
    return analyse(runs.flat(), nodes, now() - started);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

async function inProcesses(context: BenchContext, contender: Contender, processes: number): Promise<Measured> {
  const key = `contention-${contender.id}-${process.hrtime.bigint()}`;
  const workers = Array.from(
    { length: processes },
    () => new BenchWorker({ mode: 'contend', contender: contender.id, servers: context.servers, key, durationMs: context.seconds * 1000 }),
  );
  try {
    await Promise.all(workers.map((worker) => worker.waitFor('ready')));
    const started = now();
    workers.forEach((worker) => worker.send('go'));
    const runs = await Promise.all(workers.map((worker) => worker.waitFor<Acquisition[]>('acquisitions')));
    const elapsed = now() - started;
    return analyse(runs.flat(), processes, elapsed);
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
  }
}

export const contentionInProcess: Scenario = {
  id: 'contention-8-workers',
  title: '2a. Contention: 8 workers in one process, one key',
  about:
    'Eight async workers sharing one client loop acquire → one event-loop turn → release. "to another" is the share of ' +
    'acquisitions that went to a different worker than the previous one; a handoff is timed from the release call to the ' +
    "next holder's acquire reply. max/min compares the busiest and the least served worker (∞: one got nothing).",
  columns: COLUMNS,
  runRound: (context) => eachContender((contender) => inProcess(context, contender, 8)),
};

export const contentionApps: Scenario = {
  id: 'contention-8-apps',
  title: '2c. Hot key across nodes: 8 apps in one process, each with its own connections, one key',
  about:
    'As 2a, but each of the eight workers is its own node: its own client and connections (for nest-locker, its own Nest ' +
    "application context and LockerModule), as eight instances of a service would be. A node hears of another's release " +
    'only through the server, as across machines.',
  columns: COLUMNS,
  runRound: (context) => eachContender((contender) => nodesInProcess(context, contender, 8)),
};

export const contentionProcesses: Scenario = {
  id: 'contention-4-processes',
  title: '2b. Contention: 4 OS processes, one key',
  about: 'As 2a, with four separate processes (one client each) started together; times are CLOCK_MONOTONIC, shared by the processes.',
  columns: COLUMNS,
  runRound: (context) => eachContender((contender) => inProcesses(context, contender, 4)),
};
