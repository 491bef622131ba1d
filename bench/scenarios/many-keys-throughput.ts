import type { BenchClient } from '../contenders/contender';
import { now } from '../report/stats';
import { eachContender, Metrics, RoundRow, Scenario } from './scenario';

const IN_FLIGHT = 64;
const KEYS = 10_000;
const WARMUP_MS = 500;

/** `IN_FLIGHT` loops, each one lock cycle on a random key of `KEYS`, for `ms`; returns cycles done. */
async function loops(cycle: (key: string) => Promise<void>, prefix: string, ms: number): Promise<number> {
  let cycles = 0;
  const stopAt = now() + ms;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (now() < stopAt) {
        await cycle(`${prefix}:${Math.floor(Math.random() * KEYS)}`);
        cycles++;
      }
    }),
  );
  return cycles;
}

const OPTIONS = { ttl: 60_000, waitTime: 5_000 };
const nothing = async (): Promise<void> => undefined;

/** The cycles of one client for `seconds` after a warm-up: cycles/s and the process's CPU µs per cycle. */
async function timeLoops(cycle: (key: string) => Promise<void>, prefix: string, seconds: number): Promise<Metrics> {
  await loops(cycle, prefix, WARMUP_MS);
  const cpuBefore = process.cpuUsage();
  const started = now();
  const cycles = await loops(cycle, prefix, seconds * 1000);
  const elapsed = now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { cyclesPerSec: (cycles / elapsed) * 1000, cpuUsPerCycle: (cpu.user + cpu.system) / cycles };
}

export const manyKeysThroughput: Scenario = {
  id: 'many-keys-throughput',
  title: `5b. A lock per order: ${IN_FLIGHT} acquisitions in flight over ${KEYS.toLocaleString('en')} keys`,
  about:
    `One process, one client, ${IN_FLIGHT} concurrent loops each doing acquire(key, { waitTime: 5 s }) → release on a random key of ` +
    `${KEYS.toLocaleString('en')} (TTL 60 s, default keep-alive): a lock per order in an HTTP handler. Keys rarely collide, ` +
    "so this is mostly client CPU and pipelining. CPU is the process's (user + system) per cycle. The withLock rows run an " +
    'empty body under withLock(key, body, { waitTime: 5 s }) instead.',
  columns: [
    { metric: 'cyclesPerSec', label: 'acquisitions/s', digits: 0 },
    { metric: 'cyclesPerSec', label: '× floor (time)', ratio: 'rate', digits: 2 },
    { metric: 'cpuUsPerCycle', label: 'client CPU µs/cycle', digits: 0 },
  ],
  async runRound(context) {
    const withLockRows: RoundRow[] = [];
    const rows = await eachContender(async (contender) => {
      const client: BenchClient = await contender.connect(context.servers);
      const prefix = `orders-${contender.id}-${process.hrtime.bigint()}`;
      try {
        const metrics = await timeLoops(async (key) => await (await client.acquire(key, OPTIONS)).release(), prefix, context.seconds);
        if (client.withLock) {
          const withLock = client.withLock.bind(client);
          const body = await timeLoops((key) => withLock(key, OPTIONS, nothing), `${prefix}-with`, context.seconds);
          withLockRows.push({ row: `${contender.id}, withLock`, backend: contender.backend, metrics: body });
        }
        return { metrics };
      } finally {
        await client.close();
      }
    });
    return [...rows, ...withLockRows];
  },
};
