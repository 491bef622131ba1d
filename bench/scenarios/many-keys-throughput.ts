import { now } from '../report/stats';
import { eachContender, Scenario } from './scenario';

const IN_FLIGHT = 64;
const KEYS = 10_000;
const WARMUP_MS = 500;

/** `IN_FLIGHT` loops, each acquire → release on a random key of `KEYS`, for `ms`; returns cycles done. */
async function loops(acquire: (key: string) => Promise<{ release(): Promise<void> }>, prefix: string, ms: number): Promise<number> {
  let cycles = 0;
  const stopAt = now() + ms;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (now() < stopAt) {
        await (await acquire(`${prefix}:${Math.floor(Math.random() * KEYS)}`)).release();
        cycles++;
      }
    }),
  );
  return cycles;
}

export const manyKeysThroughput: Scenario = {
  id: 'many-keys-throughput',
  title: `5b. A lock per order: ${IN_FLIGHT} acquisitions in flight over ${KEYS.toLocaleString('en')} keys`,
  about:
    `One process, one client, ${IN_FLIGHT} concurrent loops each doing acquire(key, { waitTime: 5 s }) → release on a random key of ` +
    `${KEYS.toLocaleString('en')} (TTL 60 s, default keep-alive): a lock per order in an HTTP handler. Keys rarely collide, ` +
    "so this is mostly client CPU and pipelining. CPU is the process's (user + system) per cycle.",
  columns: [
    { metric: 'cyclesPerSec', label: 'acquisitions/s', digits: 0 },
    { metric: 'cyclesPerSec', label: '× floor (time)', ratio: 'rate', digits: 2 },
    { metric: 'cpuUsPerCycle', label: 'client CPU µs/cycle', digits: 0 },
  ],
  async runRound(context) {
    return eachContender(async (contender) => {
      const client = await contender.connect(context.servers);
      const acquire = (key: string) => client.acquire(key, { ttl: 60_000, waitTime: 5_000 });
      const prefix = `orders-${contender.id}-${process.hrtime.bigint()}`;
      try {
        await loops(acquire, prefix, WARMUP_MS);
        const cpuBefore = process.cpuUsage();
        const started = now();
        const cycles = await loops(acquire, prefix, context.seconds * 1000);
        const elapsed = now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        return { metrics: { cyclesPerSec: (cycles / elapsed) * 1000, cpuUsPerCycle: (cpu.user + cpu.system) / cycles } };
      } finally {
        await client.close();
      }
    });
  },
};
