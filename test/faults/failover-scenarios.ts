import { redisReplicatedClusterEnvironment, redisSentinelEnvironment } from './cluster-environments';
import type { EventOf } from './history';
import { anyScenario, FaultScenario, recovered } from './scenarios';

/**
 * Planned failovers of a replicated redis: the old master left running (Sentinel) or taken over by its replica
 * on command (Cluster). No holder may go on believing once another node can take its lock on the new master.
 */
export const SENTINEL_FAILOVER_SCENARIOS: FaultScenario[] = [
  anyScenario({
    // the maintenance path: the old master stays a master ~10 s after the replica's promotion; a node that
    // starts meanwhile finds the new master, where the key lives only as long as its last replicated renewal
    fault: 'sentinel: planned failover (SENTINEL FAILOVER, the old master left running), a node joins after it',
    driver: 'redis',
    ttl: 3000, // ends on the new master within ~3 s of the promotion: long before the old master is demoted
    acts: 80, // 4 s: the holder is still writing when the new master lets the lock go
    environmentPerRun: true, // the failover uses up the replica
    environment: redisSentinelEnvironment,
    async inject(run, sentinel) {
      await run.acquisitions(1, 20_000); // a holding just begun: it is still writing when the new master lets it go
      run.markFault();
      await sentinel.plannedFailover();
      const joined = await run.join();
      // The new node competes with the others, which learn of the failover too: it may lose every race until
      // the old master is turned into a replica, after which every node is on the new master and the window
      // this row is about has closed. Until then, each acquisition on the new master is one the holder on the
      // old master must not overlap.
      const joinedAcquiring = run.next(
        (e): e is EventOf<'acquired'> => e.kind === 'acquired' && e.node === joined.name,
        60_000,
        'the new node acquiring',
      );
      const windowClosed = sentinel.oldMasterDemoted(60_000).then(() => run.acquisitions(1, 30_000));
      await Promise.race([joinedAcquiring, windowClosed]);
      joinedAcquiring.catch(() => undefined);
      windowClosed.catch(() => undefined);
      await recovered(run, 'redis');
    },
  }),
];

export const CLUSTER_FAILOVER_SCENARIOS: FaultScenario[] = [
  anyScenario({
    fault: 'cluster: manual failover (CLUSTER FAILOVER) of the master holding the lock',
    driver: 'redis',
    ttl: 3000, // the failover is over long before the lease: the holder keeps it on the new master or is told
    acts: 60, // 3 s: held through the failover
    environment: redisReplicatedClusterEnvironment,
    async inject(run, cluster) {
      const held = await run.nextHeld();
      run.markFault();
      await cluster.manualFailover(held.key, {});
      await recovered(run, 'redis');
    },
  }),
  anyScenario({
    // FORCE does not wait for the replica to catch up: a lock its master granted meanwhile is not on the new master
    fault: 'cluster: manual failover with FORCE, the replica behind',
    driver: 'redis',
    ttl: 3000, // a holder learns at its next renewal (1 s on) that the new master never had its lock
    acts: 40, // 2 s holdings
    environmentPerRun: true, // the old master comes back as a replica by a full sync (~5 s)
    environment: redisReplicatedClusterEnvironment,
    async inject(run, cluster) {
      const held = await run.nextHeld();
      run.markFault();
      // promoted right after the next acquisition while the replica is behind, if one counts (none should)
      await cluster.manualFailover(held.key, { force: true, behind: () => run.acquisitions(1, 4000).catch(() => undefined) });
      await recovered(run, 'redis');
    },
  }),
];
