import type * as IORedis from 'ioredis';
import type { Logger } from '@nestjs/common';
import { answerWithin } from '../../utils/settle-within';
import type { ReleaseAnnouncing } from './redis-script-parts';

/** The connection the release subscriber listens on: one server, or a cluster client with sharded subscribers. */
export type SubscriberConnection = IORedis.Redis | IORedis.Cluster;

/** How the subscriber listens, to match how the scripts announce. */
export interface ReleaseListening {
  /** The event that carries `(channel, message)`. */
  message: 'message' | 'smessage';
  subscribe(connection: SubscriberConnection, channels: string[]): Promise<unknown>;
  unsubscribe(connection: SubscriberConnection, channel: string): Promise<unknown>;
  /** Emitted by the connection once it listens again after a change (a shard's connection replaced, a slot moved). */
  relistened?: string;
}

/** SUBSCRIBE on one connection to any node: a PUBLISH reaches every node. */
const CLASSIC: ReleaseListening = {
  message: 'message',
  subscribe: (connection, channels) => connection.subscribe(...channels),
  unsubscribe: (connection, channel) => connection.unsubscribe(channel),
};

/**
 * SSUBSCRIBE through an ioredis Cluster with `shardedSubscribers`: it sends each channel to the master that
 * owns its slot (one connection per such master) and listens there again after a connection or a slot moved,
 * then emits `subscribersReady`. One channel per SSUBSCRIBE: channels of different slots may not share one.
 */
const SHARDED: ReleaseListening = {
  message: 'smessage',
  subscribe: (connection, channels) => Promise.all(channels.map((channel) => connection.ssubscribe(channel))),
  unsubscribe: (connection, channel) => connection.sunsubscribe(channel),
  relistened: 'subscribersReady',
};

export const releaseListening = (announcing: ReleaseAnnouncing): ReleaseListening => (announcing === 'SPUBLISH' ? SHARDED : CLASSIC);

/**
 * A channel no lock uses (lock channels end in `}:released`), under the default key prefix so that the
 * documented ACL user may publish to it.
 */
const PROBE_CHANNEL = 'nest-locker:sharded-pubsub-probe';

/**
 * How releases are announced. One server (or Sentinel's master): PUBLISH, since every subscriber is on that
 * server anyway, and ACL users set up before sharded pub/sub keep working. A cluster: SPUBLISH when the
 * servers have it (Redis 7) and our user may run it, so a release travels to the lock's own master only
 * instead of over the cluster bus to every node; else PUBLISH, said once in the log. The probe is one
 * SPUBLISH that no one hears: refused as unknown (Redis 6) or for the command (ACL) means no; refused
 * only for the channel (another key_prefix in the ACL) means the command is allowed.
 */
export async function chooseAnnouncing(
  ioredis: typeof IORedis,
  client: SubscriberConnection,
  commandTimeout: number,
  section: string,
  logger: Logger,
): Promise<ReleaseAnnouncing> {
  if (!client.isCluster) return 'PUBLISH';
  const classic = (why: string): ReleaseAnnouncing => {
    logger.warn(`[${section}] releases are announced with PUBLISH, which every node of the cluster carries: ${why}`);
    return 'PUBLISH';
  };
  if (!clusterHasShardedSubscribers(ioredis)) return classic('this ioredis has no sharded subscribers (ioredis 6 has)');
  try {
    await answerWithin((client as IORedis.Cluster).spublish(PROBE_CHANNEL, ''), commandTimeout, 'SPUBLISH: ');
    return 'SPUBLISH';
  } catch (error) {
    const message = (error as Error).message;
    if (/^NOPERM/.test(message) && /channel/i.test(message)) return 'SPUBLISH';
    if (/unknown command/i.test(message)) return classic('the servers have no SPUBLISH (Redis 7 has)');
    if (/^NOPERM/.test(message))
      return classic(`our ACL user may not run SPUBLISH; grant +spublish +ssubscribe +sunsubscribe (${message})`);
    return classic(`SPUBLISH could not be tried (${message})`);
  }
}

/** ioredis 6's Cluster takes `shardedSubscribers`; older ones would send SSUBSCRIBE to a single node. */
const clusterHasShardedSubscribers = (ioredis: typeof IORedis): boolean => 'createShardedSubscriberGroup' in ioredis.Cluster.prototype;
