import { setTimeout as sleep } from 'node:timers/promises';
import { now } from '../report/stats';
import { BenchWorker } from './bench-worker';
import { eachContender, Scenario } from './scenario';

const TTL_MS = 2_000;
const KILL_AFTER_MS = 500;

export const crashRecovery: Scenario = {
  id: 'crash-recovery',
  title: `4. Crash recovery (holder SIGKILLed, TTL ${TTL_MS / 1000} s)`,
  about:
    `A separate process takes the key with a fixed ${TTL_MS / 1000} s lease and is SIGKILLed ${KILL_AFTER_MS} ms later while a waiter ` +
    'waits. "late" is when the waiter got the lock minus when the lease ran out (the holder\'s acquire reply + TTL). etcd3\'s ' +
    'Lock always keeps its lease alive, so its lease ends up to one keep-alive period later and "late" is not comparable; ' +
    'its raw time from kill to takeover is shown.',
  columns: [
    { metric: 'late', label: 'late ms (after the lease ran out)', digits: 1 },
    { metric: 'sinceKill', label: 'kill → takeover ms', digits: 0 },
  ],
  runRound: (context) =>
    eachContender(async (contender) => {
      const key = `crash-${contender.id}-${process.hrtime.bigint()}`;
      const waiterClient = await contender.connect(context.servers);
      const holder = new BenchWorker({ mode: 'hold', contender: contender.id, servers: context.servers, key, ttl: TTL_MS });
      const holderAcquiredAt = await holder.waitFor<number>('acquiredAt');
      const taken = waiterClient.acquire(key, { ttl: TTL_MS, waitTime: 10_000, keepAlive: false }).then((held) => ({ held, at: now() }));
      await sleep(KILL_AFTER_MS);
      const killedAt = now();
      await holder.kill();
      const { held, at: takenAt } = await taken;
      await held.release();
      await waiterClient.close();
      const keptAlive = contender.alwaysKeepsAlive === true;
      return { metrics: { late: keptAlive ? NaN : takenAt - (holderAcquiredAt + TTL_MS), sinceKill: takenAt - killedAt } };
    }),
};
