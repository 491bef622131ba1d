import { Logger } from '@nestjs/common';
import type * as IORedis from 'ioredis';
import type { Cluster, Redis } from 'ioredis';
import { requireOptionalPeer } from '../../utils/optional-peer';
import type { LockerDriver } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';
import { answerWithin } from '../../utils/settle-within';
import { awaitProbe, probeKey, probeLockPath } from '../permission-probe';
import { quitWithin } from './redis-connection';
import { redisKeyNames, RedisKeyNames } from './redis-key-names';
import type { RedisRefusals } from './redis-permission-error';
import type { ReleaseListening, SubscriberConnection } from './redis-release-channels';
import { SentinelView } from './redis-sentinel-view';

/** What the redis probe needs of the driver it checks. */
export interface RedisProbeTarget {
  /** Copies of the driver on the same client that tell no one of their locks; closed by the probe. */
  copy: LockerDriver;
  /** The second caller's: another owner prefix, so the scripts take it for another process. */
  waiterCopy: LockerDriver;
  client: Redis | Cluster;
  refusals: RedisRefusals;
  /** Opens a connection as the driver's release subscriber does, and how that one listens. */
  openSubscriber(): SubscriberConnection;
  listening: ReleaseListening;
  /** The probe's budget, and each command's deadline. */
  commandTimeout: number;
}

const logger = new Logger('RedisLockDriver');

/** What waiters lose without SUBSCRIBE (or SSUBSCRIBE). */
const UNHEARD =
  'so waiters are not told when a lock is released: each learns of it only when it next asks the server by itself, later than at once';

/** What is left behind without UNSUBSCRIBE (or SUNSUBSCRIBE). */
const NOT_UNSUBSCRIBED = 'so a channel waiters listened on stays subscribed until the subscriber connection reconnects';

/**
 * Bootstrap's check that the server lets us do what locks under `keyPrefix` need (ACL users: commands,
 * `~prefix*` keys, `&prefix*` channels): one lock through every step (see probeLockPath), and meanwhile one
 * SUBSCRIBE as waiters do. The holder is fair and the waiter on a second copy of the driver, as if in
 * another process: so the holder's release goes from the short script (TAKE_FAIR, RELEASE_LEAN) to the one
 * that grants the lock to a queued waiter and announces it, and every script command of the mutex's path
 * but the cohort handoff's (whose commands those share) runs. A refusal of the lock path rejects with the
 * LockerConfigError that names the command and the rule to add; a refused SUBSCRIBE only costs speed, and is
 * a warning that says so. Nothing stays on the server: the probe's keys are deleted (its fencing counter
 * would stay a day).
 */
export async function probeRedisPermissions(target: RedisProbeTarget, keyPrefix: string): Promise<void> {
  const sentinel = target.client.isCluster ? undefined : (target.client as Redis).options.sentinels?.length;
  if (sentinel)
    await checkSentinelCommands(target).catch(async (error: unknown) => {
      // their own views of the sentinels would keep connections open
      await Promise.allSettled([target.copy.close(), target.waiterCopy.close()]);
      throw error;
    });
  const key = probeKey();
  const names = redisKeyNames(keyPrefix, key);
  const lockPath = (async () => {
    try {
      // the lock scripts go as EVALSHA, and as EVAL only where the server lacks them (a restart, a failover): checked here
      await target.client.eval('return 1', 0).catch((error: unknown) => {
        throw target.refusals.explain(error, names.lock);
      });
      await probeLockPath(target.copy, keyPrefix, key, target.commandTimeout, {
        waiter: target.waiterCopy,
        fairHolder: true,
        queued: () => queued(target, names.queue),
      });
    } finally {
      await Promise.allSettled([target.copy.close(), target.waiterCopy.close(), removeKeys(target.client, names)]);
    }
  })();
  const subscribing = checkSubscribe(target, names.channel, keyPrefix);
  subscribing.catch(() => undefined); // awaited after the lock path, whose refusal matters more
  const checking = lockPath.then(() => subscribing);
  const what = `[${target.copy.instanceId}] the redis permissions for key_prefix "${keyPrefix}"`;
  await awaitProbe(checking, target.commandTimeout, what, logger);
}

/**
 * Sentinel: the sentinels must answer SENTINEL MASTER and REPLICAS, or no lock write ever counts (each rejects
 * as unavailable, for ever). Asked once as the driver's view of them asks; a refusal fails bootstrap, no answer
 * says nothing (the lock path's probe then warns).
 */
async function checkSentinelCommands(target: RedisProbeTarget): Promise<void> {
  const { Redis: IORedisClient } = requireOptionalPeer<typeof IORedis>('ioredis', 'redis', 'redis');
  const view = new SentinelView(IORedisClient, (target.client as Redis).options, target.commandTimeout, () => undefined);
  try {
    await view.current();
    if (view.refusal) throw target.refusals.sentinelConfigError(view.refusal);
  } finally {
    view.stop();
  }
}

/** How often the probe looks whether its waiter has a place in the server's queue yet. */
const QUEUED_POLL_MS = 2;

/**
 * Resolves once `queue` exists (the probe's waiter took its place there), looking every QUEUED_POLL_MS for
 * at most the probe's budget: the waiter's own requests are its copy's business, so no reply of theirs says when.
 */
async function queued(target: RedisProbeTarget, queue: string): Promise<void> {
  const until = monotonicNow() + target.commandTimeout;
  while (monotonicNow() < until) {
    const exists = await target.client.exists(queue).catch((error: unknown) => {
      throw target.refusals.explain(error, queue);
    });
    if (exists === 1) return;
    await new Promise((resolve) => setTimeout(resolve, QUEUED_POLL_MS));
  }
}

/** One SUBSCRIBE and UNSUBSCRIBE (sharded: SSUBSCRIBE, SUNSUBSCRIBE) on a connection of the subscriber's kind. */
async function checkSubscribe(target: RedisProbeTarget, channel: string, keyPrefix: string): Promise<void> {
  const connection = target.openSubscriber();
  connection.on('error', () => undefined); // a failure surfaces on the command
  const warnIfRefused = (error: unknown, consequence: string): void => {
    const refusal = target.refusals.refusal(error);
    if (!refusal) throw error;
    logger.warn(target.refusals.configError(refusal, error, keyPrefix, consequence).message);
  };
  try {
    try {
      await answerWithin(target.listening.subscribe(connection, [channel]), target.commandTimeout, 'SUBSCRIBE: ');
    } catch (error) {
      return warnIfRefused(error, UNHEARD);
    }
    await answerWithin(target.listening.unsubscribe(connection, channel), target.commandTimeout, 'UNSUBSCRIBE: ').catch((error: unknown) =>
      warnIfRefused(error, NOT_UNSUBSCRIBED),
    );
  } finally {
    await quitWithin(connection, target.commandTimeout);
  }
}

/** Deletes every key the probe's lock may have made (all of RedisKeyNames but the channel); without DEL, expires them at once. */
async function removeKeys(client: Redis | Cluster, names: RedisKeyNames): Promise<void> {
  const all = names.keys;
  await client.del(...all).catch(() => Promise.all(all.map((name) => client.pexpire(name, 1))));
}
