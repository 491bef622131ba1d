import { sleep } from '../helpers/wait';
import { redisClusterEnvironment, redisSentinelEnvironment } from './cluster-environments';
import { anyScenario, FaultScenario, recovered } from './scenarios';

/** Faults of clustered backends: the server that holds the lock goes away while it is held and waited for. */
export const CLUSTER_SCENARIOS: FaultScenario[] = [
  anyScenario({
    fault: 'cluster: the master holding the lock restarted (no persistence)',
    driver: 'redis',
    ttl: 10_000, // the restart is over long before the lease: the holder must be told all the same
    acts: 120, // 6 s: the holder is still writing when the master is back
    environment: redisClusterEnvironment,
    async inject(run, cluster) {
      const held = await run.nextHeld();
      const master = await cluster.masterHolding(held.key);
      run.markFault();
      await master.kill();
      await sleep(300);
      await master.start();
      await recovered(run, 'redis');
    },
  }),
  anyScenario({
    fault: 'sentinel: the master failed over to its replica',
    driver: 'redis',
    ttl: 10_000,
    acts: 120, // 6 s: the holder is still writing when the master is back
    environmentPerRun: true, // a failover uses up the replica
    environment: redisSentinelEnvironment,
    async inject(run, sentinel) {
      await run.nextHeld();
      run.markFault();
      await sentinel.failover();
      await recovered(run, 'redis');
    },
  }),
];
