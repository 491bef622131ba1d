import type { ScenarioRuns } from './markdown';
import { formatNumber, medians } from './markdown';

interface Target {
  goal: string;
  scenario: string;
  row: string;
  column: string;
  pass: (value: number) => boolean;
  digits?: number;
}

/** The goals of issue 4, read from the same medians as the tables. */
const TARGETS: Target[] = [
  ...(['redis', 'etcd'] as const).map((backend) => ({
    goal: `acquire({ waitTime }) cycle ≤ ${backend === 'redis' ? '1.10' : '1.15'}× floor (${backend})`,
    scenario: 'uncontended-as-called',
    row: `nest-locker (${backend})`,
    column: '× floor (time)',
    pass: (v: number) => v <= (backend === 'redis' ? 1.1 : 1.15),
    digits: 2,
  })),
  ...(['redis', 'etcd'] as const).map((backend) => ({
    goal: `a lock per order: throughput ≥ 0.9× floor, i.e. ≤ 1.11× its time (${backend})`,
    scenario: 'many-keys-throughput',
    row: `nest-locker (${backend})`,
    column: '× floor (time)',
    pass: (v: number) => v <= 1 / 0.9,
    digits: 2,
  })),
  {
    goal: 'acquire({ waitTime }) client CPU per cycle ≤ 1.2× floor (redis)',
    scenario: 'uncontended-as-called',
    row: 'nest-locker (redis)',
    column: 'CPU × floor',
    pass: (v) => v <= 1.2,
    digits: 2,
  },
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
    {
      goal: `default mode: no starvation, max/min per node ≤ 3 (${scenario})`,
      scenario,
      row: 'nest-locker (redis)',
      column: 'max/min per worker',
      pass: (v: number) => v <= 3,
      digits: 2,
    },
    {
      goal: `default mode: throughput ≥ 0.7× floor, i.e. time ≤ 1.43× (${scenario})`,
      scenario,
      row: 'nest-locker (redis)',
      column: '× floor (time)',
      pass: (v: number) => v <= 1 / 0.7,
      digits: 2,
    },
    {
      goal: `etcd: throughput ≥ 0.9× floor, i.e. time ≤ 1.11× (${scenario})`,
      scenario,
      row: 'nest-locker (etcd)',
      column: '× floor (time)',
      pass: (v: number) => v <= 1 / 0.9,
      digits: 2,
    },
  ]),
  ...(['contention-8-workers', 'contention-8-apps', 'contention-4-processes'] as const).flatMap((scenario) => [
    ...['nest-locker (redis)', 'nest-locker (redis, fair)', 'nest-locker (etcd)'].map((row) => ({
      goal: `handoff p50 ≤ 2 round trips (${scenario})`,
      scenario,
      row,
      column: 'p50 in round trips',
      pass: (v: number) => v <= 2,
    })),
    {
      goal: `fair: max/min per worker ≤ 1.5 (${scenario})`,
      scenario,
      row: 'nest-locker (redis, fair)',
      column: 'max/min per worker',
      pass: (v: number) => v <= 1.5,
      digits: 2,
    },
    {
      goal: `fair: throughput ≥ 0.7× floor, i.e. time ≤ 1.43× (${scenario})`,
      scenario,
      row: 'nest-locker (redis, fair)',
      column: '× floor (time)',
      pass: (v: number) => v <= 1 / 0.7,
      digits: 2,
    },
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
];

export function targetsTable(runs: ScenarioRuns[]): string {
  const lines = ['| goal | nest-locker | measured | met |', '|---|---|---:|:---:|'];
  for (const target of TARGETS) {
    const found = runs.find((run) => run.scenario.id === target.scenario);
    if (!found) continue;
    const value = medians(found).get(target.row)?.get(target.column) ?? NaN;
    const met = Number.isNaN(value) ? 'n/a' : target.pass(value) ? 'yes' : '**no**';
    lines.push(`| ${target.goal} | ${target.row} | ${formatNumber(value, target.digits ?? 1)} | ${met} |`);
  }
  return lines.join('\n');
}
