import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { LockerModule, LockerService } from 'nest-locker';
import { loginAs, NO_SPUBLISH_USER, NO_SPUBLISH_USER_ARGS } from '../../test/harness/redis-acl';
import { RedisCluster, startRedisCluster } from '../../test/harness/redis-cluster';
import { channelSubscribers, pubSubMessagesSent } from '../../test/harness/redis-cluster-stats';
import { eventually } from '../../test/helpers/wait';
import type { RoundRow, Scenario } from './scenario';

const MASTERS = 3;
/** Per master: sharded pub/sub still sends each message to the shard's replicas. */
const REPLICAS = 1;
const RELEASES = 200;
/** Keys taken in turn, spread over the masters' slots. */
const KEYS = 32;

/** One Nest app with LockerModule on the cluster, logged in as `user` (undefined: the default user). */
async function clusterApp(cluster: RedisCluster, user?: string) {
  const redis = { cluster: cluster.addrs, ...(user ? loginAs(user) : {}) };
  const app = await NestFactory.createApplicationContext(
    LockerModule.forRoot({ redis, locker: { driver: 'redis', driver_instance_id: 'redis' } }),
    { logger: ['error'] },
  );
  return { locker: app.get(LockerService), close: () => app.close() };
}

/**
 * RELEASES releases, each with a waiter in another app listening for it: the holder's app takes a key, the
 * waiter's app asks for it and listens (checked on every node, replicas too: the PUBLISH fallback's one
 * SUBSCRIBE connection may be on any node of the cluster), the holder releases, the waiter takes it and
 * releases in turn. Cluster bus messages are counted around the loop.
 */
async function measure(cluster: RedisCluster, everyNode: Redis[], user?: string): Promise<RoundRow['metrics']> {
  const [holderApp, waiterApp] = [await clusterApp(cluster, user), await clusterApp(cluster, user)];
  const subscribers = async (channel: string): Promise<number> => {
    const { sharded, classic } = await channelSubscribers(everyNode, channel);
    return [...sharded, ...classic].reduce((sum, count) => sum + count, 0);
  };
  try {
    const before = await pubSubMessagesSent(cluster);
    for (let i = 0; i < RELEASES; i++) {
      const key = `cluster-release-${i % KEYS}`;
      const held = await holderApp.locker.acquire(key, { ttl: 10_000 });
      const waiting = waiterApp.locker.acquire(key, { ttl: 10_000, waitTime: 10_000 });
      waiting.catch(() => undefined); // answered below; if the loop fails first, the apps' close rejects it
      const channel = `nest-locker:{${key}}:released`;
      const listening = await eventually(
        () => subscribers(channel),
        (count) => count > 0,
        5_000,
      );
      if (listening === 0) {
        const outcome = await Promise.race([
          waiting.then(
            () => 'it holds the lock',
            (error: Error) => error.message,
          ),
          Promise.resolve('still waiting'),
        ]);
        throw new Error(`the waiter on ${key} never listened on any node (${outcome}; ${user ? 'PUBLISH fallback' : 'sharded SPUBLISH'})`);
      }
      await held.release();
      await (await waiting).release();
    }
    const after = await pubSubMessagesSent(cluster);
    const releases = 2 * RELEASES; // the waiter's release announces too (no one listens then)
    return {
      releases,
      publish: (after.publish - before.publish) / releases,
      publishshard: (after.publishshard - before.publishshard) / releases,
      total: (after.publish - before.publish + after.publishshard - before.publishshard) / releases,
    };
  } finally {
    await Promise.all([holderApp.close(), waiterApp.close()]);
  }
}

export const clusterReleaseMessages: Scenario = {
  id: 'cluster-release-messages',
  title: `7. Redis Cluster: messages a release costs on a ${MASTERS}-master cluster`,
  about:
    `A private Redis Cluster of ${MASTERS} masters with ${REPLICAS} replica each, started for the scenario. ${RELEASES} times, ` +
    `an app takes one of ${KEYS} keys, an app of its own waits for it (its subscription is checked on every node, ` +
    'replicas too, before the release), the holder releases and the waiter takes the key and releases it in turn. Messages are the cluster ' +
    "bus's pub/sub messages (`cluster_stats_messages_publish_sent` + `cluster_stats_messages_publishshard_sent` summed " +
    "over all nodes) per release. Sharded: SPUBLISH is delivered by the lock's own master, which sends it on only to " +
    'its own replicas. PUBLISH fallback: a user without SPUBLISH (as on Redis 6) makes nest-locker fall back to PUBLISH, ' +
    'which the master sends to every other node of the cluster. The floor, redlock and redis-semaphore poll instead of ' +
    'publishing, so they have no rows here.',
  rounds: 1,
  columns: [
    { metric: 'total', label: 'bus messages / release', digits: 2 },
    { metric: 'publish', label: 'publish_sent / release', digits: 2 },
    { metric: 'publishshard', label: 'publishshard_sent / release', digits: 2 },
    { metric: 'releases', label: 'releases', digits: 0 },
  ],
  async runRound() {
    const cluster = await startRedisCluster(MASTERS, undefined, { serverArgs: NO_SPUBLISH_USER_ARGS, replicas: REPLICAS });
    const everyNode = [...cluster.nodes, ...cluster.replicas].map((node) => new Redis({ host: '127.0.0.1', port: node.port }));
    try {
      return [
        { row: 'nest-locker (redis cluster, sharded SPUBLISH)', backend: 'redis', metrics: await measure(cluster, everyNode) },
        {
          row: 'nest-locker (redis cluster, PUBLISH fallback)',
          backend: 'redis',
          metrics: await measure(cluster, everyNode, NO_SPUBLISH_USER),
        },
      ];
    } finally {
      everyNode.forEach((node) => node.disconnect());
      await cluster.stop();
    }
  },
};
