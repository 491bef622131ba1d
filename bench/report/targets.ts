import type { ScenarioRuns } from './markdown';
import { formatNumber, medians } from './markdown';

interface Target {
  goal: string;
  scenario: string;
  row: string;
  column: string;
  pass: (value: number) => boolean;
  digits?: number;
  /** Measured as a ratio to this row's value in the same column (a peer), not as the value itself. */
  against?: string;
}

/** Throughput at least `share` of the floor's: the "× floor (time)" column (floor / ours) at most 1 / share. */
const throughputGoal = (what: string, share: number, scenario: string, row: string): Target => ({
  goal: `${what}: throughput ≥ ${share}× floor, i.e. time ≤ ${(1 / share).toFixed(2)}× (${scenario})`,
  scenario,
  row,
  column: '× floor (time)',
  pass: (v: number) => v <= 1 / share,
  digits: 2,
});

/** No starvation: the busiest node took the lock at most `limit` times as often as the least served one. */
const spreadGoal = (what: string, limit: number, scenario: string, row: string): Target => ({
  goal: `${what}: max/min per worker ≤ ${limit} (${scenario})`,
  scenario,
  row,
  column: 'max/min per worker',
  pass: (v: number) => v <= limit,
  digits: 2,
});

/** The goals of issues 4, 14, 22 and 23, read from the same medians as the tables. */
const TARGETS: Target[] = [
  ...(['uncontended', 'uncontended-as-called'] as const).map((scenario) => ({
    goal: `redis-server CPU per uncontended cycle ≤ 1.15× floor's (${scenario})`,
    scenario,
    row: 'nest-locker (redis)',
    column: 'server CPU × floor',
    pass: (v: number) => v <= 1.15,
    digits: 2,
  })),
  ...(['redis', 'etcd'] as const).map((backend) =>
    throughputGoal('a lock per order, withLock', 0.9, 'many-keys-throughput', `nest-locker (${backend}), withLock`),
  ),
  ...(['uncontended-permit', 'uncontended-read'] as const).map((scenario) => ({
    goal: `${scenario === 'uncontended-permit' ? 'permit' : 'read lock'} cycle ≤ 1.2× floor (${scenario})`,
    scenario,
    row: 'nest-locker (redis)',
    column: '× floor (time)',
    pass: (v: number) => v <= 1.2,
    digits: 2,
  })),
  spreadGoal('hot permits, 8 apps', 1.5, 'contention-permit-8-apps', 'nest-locker (redis)'),
  {
    goal: 'hot permits: never more holders than the limit (2) (contention-permit-8-apps)',
    scenario: 'contention-permit-8-apps',
    row: 'nest-locker (redis)',
    column: 'most holders at once',
    pass: (v) => v <= 2,
    digits: 0,
  },
  ...(['redis', 'etcd'] as const).map((backend) => ({
    goal: `acquire({ waitTime }) cycle ≤ ${backend === 'redis' ? '1.10' : '1.15'}× floor (${backend})`,
    scenario: 'uncontended-as-called',
    row: `nest-locker (${backend})`,
    column: '× floor (time)',
    pass: (v: number) => v <= (backend === 'redis' ? 1.1 : 1.15),
    digits: 2,
  })),
  ...(['redis', 'etcd'] as const).map((backend) =>
    throughputGoal('a lock per order', 0.9, 'many-keys-throughput', `nest-locker (${backend})`),
  ),
  {
    goal: 'acquire({ waitTime }) client CPU per cycle ≤ 1.2× floor (redis)',
    scenario: 'uncontended-as-called',
    row: 'nest-locker (redis)',
    column: 'CPU × floor',
    pass: (v) => v <= 1.2,
    digits: 2,
  },
  ...(['uncontended', 'uncontended-as-called'] as const).map((scenario) => ({
    goal: `uncontended cycle p50 ≤ redis-semaphore's, as a ratio to it (${scenario})`,
    scenario,
    row: 'nest-locker (redis)',
    column: 'p50 ms',
    against: 'redis-semaphore',
    pass: (v: number) => v <= 1,
    digits: 2,
  })),
  {
    goal: 'uncontended cycle ≤ 1.10× floor (redis)',
    scenario: 'uncontended',
    row: 'nest-locker (redis)',
    column: '× floor (time)',
    pass: (v) => v <= 1.1,
    digits: 2,
  },
  {
    goal: 'uncontended cycle ≤ 1.15× floor (etcd)',
    scenario: 'uncontended',
    row: 'nest-locker (etcd)',
    column: '× floor (time)',
    pass: (v) => v <= 1.15,
    digits: 2,
  },
  ...(['contention-8-apps', 'contention-4-processes'] as const).flatMap((scenario) => [
    spreadGoal('default mode, no starvation', 3, scenario, 'nest-locker (redis)'),
    throughputGoal('default mode', 0.7, scenario, 'nest-locker (redis)'),
    throughputGoal('etcd', 0.9, scenario, 'nest-locker (etcd)'),
  ]),
  ...(['contention-8-workers', 'contention-8-apps', 'contention-4-processes'] as const).flatMap((scenario) => [
    ...['nest-locker (redis)', 'nest-locker (redis, fair)', 'nest-locker (etcd)'].map((row) => ({
      goal: `handoff p50 ≤ 2 round trips (${scenario})`,
      scenario,
      row,
      column: 'p50 in round trips',
      pass: (v: number) => v <= 2,
    })),
    spreadGoal('fair', 1.5, scenario, 'nest-locker (redis, fair)'),
    ...(
      [
        ['nest-locker (redis, fair)', 1],
        ['nest-locker (etcd)', 1.1],
      ] as const
    ).map(([row, limit]) => ({
      goal: `handoff to another node p50 ≤ ${limit}× floor's (${scenario})`,
      scenario,
      row,
      column: 'handoff × floor',
      pass: (v: number) => v <= limit,
      digits: 2,
    })),
    throughputGoal('fair', 0.7, scenario, 'nest-locker (redis, fair)'),
    ...['nest-locker (redis)', 'nest-locker (redis, fair)', 'nest-locker (etcd)'].map((row) => ({
      goal: `no overlaps (${scenario})`,
      scenario,
      row,
      column: 'overlaps',
      pass: (v: number) => v === 0,
      digits: 0,
    })),
  ]),
  {
    goal: '1,000 waiters: one subscriber connection',
    scenario: 'waiters',
    row: 'nest-locker (redis)',
    column: 'redis connections',
    pass: (v) => v <= 2,
    digits: 0,
  },
  {
    goal: 'heap per held lock < 1 KB (redis, 10,000)',
    scenario: 'many-keys',
    row: 'nest-locker (redis), 10,000 locks',
    column: 'heap per lock (bytes)',
    pass: (v) => v < 1024,
    digits: 0,
  },
  {
    goal: 'heap per held lock < 1 KB (etcd, 10,000)',
    scenario: 'many-keys',
    row: 'nest-locker (etcd), 10,000 locks',
    column: 'heap per lock (bytes)',
    pass: (v) => v < 1024,
    digits: 0,
  },
  ...['nest-locker (redis)', 'nest-locker (etcd)'].flatMap((row) => [
    { goal: 'timeout within 10 ms of waitTime', scenario: 'wait-timeout', row, column: 'worst ms', pass: (v: number) => Math.abs(v) <= 10 },
    {
      goal: 'crash recovery within 20 ms of the TTL',
      scenario: 'crash-recovery',
      row,
      column: 'late ms (after the lease ran out)',
      pass: (v: number) => Math.abs(v) <= 20,
    },
  ]),
  {
    goal: 'Redis Cluster: a release is not broadcast to every node (PUBLISH messages on the bus per release)',
    scenario: 'cluster-release-messages',
    row: 'nest-locker (redis cluster, sharded SPUBLISH)',
    column: 'publish_sent / release',
    pass: (v) => v === 0,
    digits: 2,
  },
];

export function targetsTable(runs: ScenarioRuns[]): string {
  const lines = ['| goal | nest-locker | measured | met |', '|---|---|---:|:---:|'];
  for (const target of TARGETS) {
    const found = runs.find((run) => run.scenario.id === target.scenario);
    if (!found) continue;
    const table = medians(found);
    const value =
      (table.get(target.row)?.get(target.column) ?? NaN) / (target.against ? (table.get(target.against)?.get(target.column) ?? NaN) : 1);
    const met = Number.isNaN(value) ? 'n/a' : target.pass(value) ? 'yes' : '**no**';
    lines.push(`| ${target.goal} | ${target.row} | ${formatNumber(value, target.digits ?? 1)} | ${met} |`);
  }
  return lines.join('\n');
}
