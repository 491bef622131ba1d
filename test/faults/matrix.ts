import { FaultRun } from './fault-run';
import type { Violation } from './history';
import { FaultScenario, TIMING, WORKERS } from './scenarios';
import type { FaultWorkerArgs } from './protocol';

/** One row of the fault report: a scenario's runs added up. */
export interface FaultRow {
  fault: string;
  driver: string;
  control: boolean;
  runs: number;
  acquisitions: number;
  violations: Violation[];
  /** Median and worst time from the fault to the next acquisition, ms. */
  recoverMs: { median?: number; max?: number };
  staleUnfencedWrites: number;
  refusedFencedWrites: number;
  clockErrorMs: number;
}

/** What worker `index` takes in a run of `scenario` (see LockUnderTest). */
function lockArgs(scenario: FaultScenario, index: number): Pick<FaultWorkerArgs, 'lockKind' | 'limit'> {
  const lock = scenario.lock;
  if (!lock) return {};
  if (lock.kind === 'permit') return { lockKind: 'permit', limit: lock.limit };
  if (lock.kind === 'leader') return { lockKind: 'leader' };
  return { lockKind: index === 0 ? 'write' : 'read' };
}

/** Runs one scenario `runs` times on one set of servers; each run has its own key and worker processes. */
export async function runScenario(scenario: FaultScenario, runs: number): Promise<FaultRow> {
  let environment = await scenario.environment();
  const row: FaultRow = {
    fault: scenario.fault,
    driver: scenario.driver,
    control: scenario.control ?? false,
    runs,
    acquisitions: 0,
    violations: [],
    recoverMs: {},
    staleUnfencedWrites: 0,
    refusedFencedWrites: 0,
    clockErrorMs: 0,
  };
  const recoveries: number[] = [];
  try {
    for (let index = 0; index < runs; index++) {
      if (index > 0 && scenario.environmentPerRun) {
        await environment.close();
        environment = await scenario.environment();
      }
      const key = `faults:${scenario.driver}:${scenario.fault.replace(/\W+/g, '-')}:${index}`;
      const run = new FaultRun();
      try {
        await run.start(
          Array.from({ length: WORKERS }, (_, worker) => ({
            node: `node-${worker + 1}`,
            key,
            ...TIMING[scenario.driver],
            ttl: scenario.ttl ?? TIMING[scenario.driver].ttl,
            acts: scenario.acts ?? TIMING[scenario.driver].acts,
            lock: scenario.control ? ('broken' as const) : ('nest-locker' as const),
            config: environment.workerConfig(worker),
            redisAddr: environment.server?.addr,
            ...lockArgs(scenario, worker),
          })),
        );
        await run.acquisitions(1, 30_000); // the workers are at it
        await scenario.inject(run, environment);
        const result = await run.finish();
        row.acquisitions += result.acquisitions;
        row.violations.push(...result.violations);
        row.staleUnfencedWrites += result.staleUnfencedWrites;
        row.refusedFencedWrites += result.refusedFencedWrites;
        row.clockErrorMs = Math.max(row.clockErrorMs, result.clockErrorMs);
        if (result.recoverMs !== undefined) recoveries.push(result.recoverMs);
      } finally {
        run.kill();
      }
    }
  } finally {
    await environment.close();
  }
  recoveries.sort((a, b) => a - b);
  row.recoverMs = { median: recoveries[Math.floor(recoveries.length / 2)], max: recoveries.at(-1) };
  return row;
}

/** The report: one line per row, violations spelled out below. */
export function formatFaultTable(rows: FaultRow[]): string {
  const ms = (value?: number) => (value === undefined ? '–' : value.toFixed(0));
  const lines = [
    '| fault | driver | runs | acquisitions | violations | time to recover, ms (median / max) | stale writes: unfenced took / fenced refused |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.fault} | ${row.driver} | ${row.runs} | ${row.acquisitions} | ${row.violations.length}${row.control ? ' (control: must be > 0)' : ''} | ${ms(row.recoverMs.median)} / ${ms(row.recoverMs.max)} | ${row.staleUnfencedWrites} / ${row.refusedFencedWrites} |`,
    ),
  ];
  const clockError = Math.max(0, ...rows.map((row) => row.clockErrorMs));
  lines.push('', `Clock error allowed between processes (measured): ${clockError.toFixed(3)} ms.`);
  for (const row of rows.filter((r) => r.violations.length > 0)) {
    lines.push('', `Violations in "${row.fault}" (${row.driver}):`, ...row.violations.slice(0, 5).map((v) => `- ${v.rule}: ${v.detail}`));
  }
  return lines.join('\n');
}
