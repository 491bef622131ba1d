import { sleep } from '../helpers/wait';
import { etcdClusterEnvironment, redisClusterEnvironment, redisSentinelEnvironment } from './cluster-environments';
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
  ...(['leader', 'follower'] as const).map((which) =>
    anyScenario({
      fault: `etcd cluster: the ${which} killed, back after 1 s`,
      driver: 'etcd',
      acts: 20, // 3 s: held and renewed through the election
      environment: etcdClusterEnvironment,
      async inject(run, cluster) {
        await run.nextHeld();
        const member = await cluster.member(which);
        run.markFault();
        await member.kill();
        await sleep(1000);
        await member.start();
        await recovered(run, 'etcd');
      },
    }),
  ),
];
