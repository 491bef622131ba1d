import { now, percentile } from '../report/stats';
import { eachContender, RoundRow, Scenario } from './scenario';

/** Long enough for V8 to optimise every contender's code path before it is timed. */
const WARMUP_MS = 500;

export const uncontended: Scenario = {
  id: 'uncontended',
  title: '1. Uncontended acquire + release on one key',
  about:
    'One client, one key, back-to-back acquire → release (TTL 10 s). "× floor" is the time per cycle against the hand-written ' +
    "floor of the same backend in the same round. The bare round trip (PING / etcd get) is the network's own floor.",
  columns: [
    { metric: 'cyclesPerSec', label: 'cycles/s', digits: 0 },
    { metric: 'cyclesPerSec', label: '× floor (time)', ratio: 'rate', digits: 2 },
    { metric: 'p50', label: 'p50 ms', digits: 3 },
    { metric: 'p99', label: 'p99 ms', digits: 3 },
    { metric: 'p50', label: 'p50 in round trips', inRtts: true, digits: 1 },
  ],
  async runRound(context) {
    const rows: RoundRow[] = [];
    for (const backend of ['redis', 'etcd'] as const) {
      const p50 = context.rtt[backend];
      rows.push({
        row: backend === 'redis' ? 'bare round trip (PING)' : 'bare round trip (etcd get)',
        backend,
        metrics: { cyclesPerSec: 1000 / p50, p50, p99: NaN },
      });
    }
    const measured = await eachContender(async (contender) => {
      const client = await contender.connect(context.servers);
      const key = `uncontended-${contender.id}-${process.hrtime.bigint()}`;
      const warmUntil = now() + WARMUP_MS;
      while (now() < warmUntil) await (await client.acquire(key, { ttl: 10_000 })).release();
      const cycles: number[] = [];
      const started = now();
      const stopAt = started + context.seconds * 1000;
      while (now() < stopAt) {
        const cycleStart = now();
        await (await client.acquire(key, { ttl: 10_000 })).release();
        cycles.push(now() - cycleStart);
      }
      const elapsed = now() - started;
      await client.close();
      return { metrics: { cyclesPerSec: (cycles.length / elapsed) * 1000, p50: percentile(cycles, 50), p99: percentile(cycles, 99) } };
    });
    return [...rows, ...measured];
  },
};
