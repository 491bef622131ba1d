import type { BenchAcquireOptions } from '../contenders/contender';
import { now, percentile } from '../report/stats';
import { Column, eachContender, Metrics, RoundRow, Scenario } from './scenario';

/** Long enough for V8 to optimise every contender's code path before it is timed. */
const WARMUP_MS = 500;

/**
 * Runs `cycle` back to back for `seconds` after a warm-up: cycles/s, p50/p99 (ms), the process's CPU µs per
 * cycle and, given `serverCpu` (see ServerInspector.serverCpuUs), the server's.
 */
export async function timeCycles(cycle: () => Promise<void>, seconds: number, serverCpu?: () => Promise<number>): Promise<Metrics> {
  const warmUntil = now() + WARMUP_MS;
  while (now() < warmUntil) await cycle();
  const cycles: number[] = [];
  const serverBefore = (await serverCpu?.()) ?? NaN;
  const cpuBefore = process.cpuUsage();
  const started = now();
  const stopAt = started + seconds * 1000;
  while (now() < stopAt) {
    const cycleStart = now();
    await cycle();
    cycles.push(now() - cycleStart);
  }
  const elapsed = now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const serverUs = ((await serverCpu?.()) ?? NaN) - serverBefore;
  return {
    cyclesPerSec: (cycles.length / elapsed) * 1000,
    p50: percentile(cycles, 50),
    p99: percentile(cycles, 99),
    cpuUsPerCycle: (cpu.user + cpu.system) / cycles.length,
    serverCpuUsPerCycle: serverUs / cycles.length,
  };
}

/** The columns of an uncontended table. */
export const UNCONTENDED_COLUMNS: Column[] = [
  { metric: 'cyclesPerSec', label: 'cycles/s', digits: 0 },
  { metric: 'cyclesPerSec', label: '× floor (time)', ratio: 'rate', digits: 2 },
  { metric: 'p50', label: 'p50 ms', digits: 3 },
  { metric: 'p99', label: 'p99 ms', digits: 3 },
  { metric: 'p50', label: 'p50 in round trips', inRtts: true, digits: 1 },
  { metric: 'cpuUsPerCycle', label: 'client CPU µs/cycle', digits: 0 },
  { metric: 'cpuUsPerCycle', label: 'CPU × floor', ratio: 'time', digits: 2 },
  { metric: 'serverCpuUsPerCycle', label: 'server CPU µs/cycle', digits: 1 },
  { metric: 'serverCpuUsPerCycle', label: 'server CPU × floor', ratio: 'time', digits: 2 },
];

/** One client, one key, back-to-back acquire → release with `options`. */
const uncontendedScenario = (id: string, title: string, about: string, options: BenchAcquireOptions): Scenario => ({
  id,
  title,
  about:
    `${about} "× floor" is the time per cycle against the hand-written floor of the same backend in the same round. ` +
    "The bare round trip (PING / etcd get) is the network's own floor. CPU is the client process's (user + system) per cycle; " +
    "server CPU is the server process's (redis-server: /proc/<pid>/stat, etcd: its process_cpu_seconds_total), so socket I/O counts.",
  columns: UNCONTENDED_COLUMNS,
  async runRound(context) {
    const rows: RoundRow[] = [];
    for (const backend of ['redis', 'etcd'] as const) {
      const p50 = context.rtt[backend];
      rows.push({
        row: backend === 'redis' ? 'bare round trip (PING)' : 'bare round trip (etcd get)',
        backend,
        metrics: { cyclesPerSec: 1000 / p50, p50, p99: NaN, cpuUsPerCycle: NaN, serverCpuUsPerCycle: NaN },
      });
    }
    const measured = await eachContender(async (contender) => {
      const client = await contender.connect(context.servers);
      const key = `uncontended-${contender.id}-${process.hrtime.bigint()}`;
      try {
        const cycle = async () => await (await client.acquire(key, options)).release();
        return { metrics: await timeCycles(cycle, context.seconds, () => context.inspector.serverCpuUs(contender.backend)) };
      } finally {
        await client.close();
      }
    });
    return [...rows, ...measured];
  },
});

export const uncontended = uncontendedScenario(
  'uncontended',
  '1. Uncontended acquire + release on one key',
  'One client, one key, back-to-back acquire → release (TTL 10 s).',
  { ttl: 10_000 },
);

/** The way applications call it: a wait time, the default lease and keep-alive. */
export const uncontendedAsCalled = uncontendedScenario(
  'uncontended-as-called',
  '1b. Uncontended acquire({ waitTime }) + release, as applications call it',
  "One client, one key, back-to-back acquire(key, { waitTime: 5 s }) → release, each library's default keep-alive, TTL 60 s (nest-locker's default).",
  { ttl: 60_000, waitTime: 5_000 },
);
