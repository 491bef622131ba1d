/**
 * Measures the two-holder window of a planned Sentinel failover (`SENTINEL FAILOVER`, the old master left
 * running): node A holds a key (keep-alive) on the master; the failover runs; node C, started after it (so it
 * finds the new master), waits for the key. "Both held" is how long C held the key while A had not been told
 * (0 when A was told first). Run after `npx tsc -p tsconfig.json`:
 *
 *   node dist/test/faults/failover-window.js          # WINDOW_TTLS=3000,6000,10000 WINDOW_RUNS=3
 */
import 'reflect-metadata';
import { startRedisSentinel } from '../harness/redis-sentinel';
import { startLockerApp } from '../helpers/locker-app';
import { systemNow } from '../helpers/wait';

interface WindowRun {
  ttl: number;
  /** From the failover command to: C's acquisition, A being told (undefined: not within the run). */
  acquiredMs: number;
  toldMs?: number;
  bothHeldMs: number;
}

async function measure(ttl: number): Promise<WindowRun> {
  const setup = await startRedisSentinel();
  const config = {
    redis: { sentinels: setup.sentinelAddrs, master_name: setup.masterName },
    locker: { driver: 'redis', driver_instance_id: 'redis' },
  };
  const holder = await startLockerApp(config);
  let joined: Awaited<ReturnType<typeof startLockerApp>> | undefined;
  try {
    const key = `window-${ttl}`;
    const lock = await holder.service.acquire(key, { ttl });
    let toldAt: number | undefined;
    lock.signal.addEventListener('abort', () => (toldAt = systemNow()));
    await new Promise((resolve) => setTimeout(resolve, ttl / 2)); // a renewal or so on the old master
    const failoverAt = systemNow();
    await setup.plannedFailover();
    joined = await startLockerApp(config);
    const taken = await joined.service.acquire(key, { ttl, waitTime: 30_000 });
    const acquiredAt = systemNow();
    // A is told at the latest when the sentinels turn the old master into a replica (~10 s after the failover)
    for (let waited = 0; toldAt === undefined && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    await taken.release();
    return {
      ttl,
      acquiredMs: acquiredAt - failoverAt,
      toldMs: toldAt === undefined ? undefined : toldAt - failoverAt,
      bothHeldMs: Math.max(0, (toldAt ?? Infinity) - acquiredAt),
    };
  } finally {
    await joined?.close();
    await holder.close();
    await setup.stop();
  }
}

async function main(): Promise<void> {
  const ttls = (process.env.WINDOW_TTLS ?? '3000,6000,10000').split(',').map(Number);
  const runs = Number(process.env.WINDOW_RUNS ?? 3);
  const rows = ['| TTL, ms | C acquired, ms after the failover | A told, ms after | both held, ms |', '|---:|---:|---:|---:|'];
  for (const ttl of ttls) {
    for (let run = 0; run < runs; run++) {
      const result = await measure(ttl);
      const told = result.toldMs === undefined ? 'never' : result.toldMs.toFixed(0);
      rows.push(`| ${ttl} | ${result.acquiredMs.toFixed(0)} | ${told} | ${result.bothHeldMs.toFixed(0)} |`);
      process.stderr.write(`[window] ${rows.at(-1)}\n`);
    }
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
