import type { Redis } from 'ioredis';
import type { RedisCluster } from './redis-cluster';
import { redisCommand } from './redis-command';

/** Pub/sub messages the cluster bus has sent, summed over every node, masters and replicas (from CLUSTER INFO). */
export interface PubSubMessagesSent {
  /** PUBLISH: each one goes to every other node. */
  publish: number;
  /** SPUBLISH: each one goes only to the replicas of the channel's shard. */
  publishshard: number;
}

export async function pubSubMessagesSent(cluster: RedisCluster): Promise<PubSubMessagesSent> {
  const infos = await Promise.all([...cluster.nodes, ...cluster.replicas].map((node) => redisCommand(node.port, 'CLUSTER', 'INFO')));
  const sum = (field: string): number =>
    infos.reduce<number>((total, info) => total + Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(String(info))?.[1] ?? 0), 0);
  return { publish: sum('cluster_stats_messages_publish_sent'), publishshard: sum('cluster_stats_messages_publishshard_sent') };
}

/**
 * Per node given (a plain connection to each): sharded (SSUBSCRIBE) and classic (SUBSCRIBE) subscribers of
 * `channel`. Each node counts only its own clients: to find a classic subscriber wherever it is, give every
 * node, replicas too (the PUBLISH fallback subscribes on any node of the cluster, replicas included).
 */
export async function channelSubscribers(perNode: Redis[], channel: string): Promise<{ sharded: number[]; classic: number[] }> {
  const count = (reply: unknown[]): number => Number(reply[1]);
  return {
    sharded: await Promise.all(perNode.map((node) => node.pubsub('SHARDNUMSUB', channel).then(count))),
    classic: await Promise.all(perNode.map((node) => node.pubsub('NUMSUB', channel).then(count))),
  };
}
