import { now, percentile } from '../report/stats';
import { eachContender, Scenario } from './scenario';

const WAIT_TIME_MS = 500;
const TRIES = 3;

export const waitTimeout: Scenario = {
  id: 'wait-timeout',
  title: `3. Wait-timeout accuracy (waitTime ${WAIT_TIME_MS} ms against a held lock)`,
  about:
    `Another client holds the key; the contender asks with a wait of ${WAIT_TIME_MS} ms (each library's own way: redlock only ` +
    `has a retry count, so it gets ${WAIT_TIME_MS} / 200). The table shows when it gave up, minus ${WAIT_TIME_MS} ms.`,
  columns: [
    { metric: 'lateP50', label: 'gave up after waitTime + (p50 ms)', digits: 1 },
    { metric: 'lateMax', label: 'worst ms', digits: 1 },
  ],
  runRound: (context) =>
    eachContender(async (contender) => {
      const [holderClient, waiterClient] = [await contender.connect(context.servers), await contender.connect(context.servers)];
      const key = `timeout-${contender.id}-${process.hrtime.bigint()}`;
      const holder = await holderClient.acquire(key, { ttl: 30_000 });
      const late: number[] = [];
      for (let i = 0; i < TRIES; i++) {
        const started = now();
        const outcome = await waiterClient.acquire(key, { ttl: 30_000, waitTime: WAIT_TIME_MS }).then(
          () => 'acquired',
          () => 'gave up',
        );
        if (outcome !== 'gave up') throw new Error(`${contender.id} acquired a held lock`);
        late.push(now() - started - WAIT_TIME_MS);
      }
      await holder.release();
      await Promise.all([holderClient.close(), waiterClient.close()]);
      return { metrics: { lateP50: percentile(late, 50), lateMax: Math.max(...late) } };
    }),
};
