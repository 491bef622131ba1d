import type { Cluster, Redis } from 'ioredis';
import { AbstractLockerDriver } from '../abstract-locker.driver';
import type { HeldLock } from '../../lock/held-lock';
import { LocalWaitQueues, Turn } from '../../lock/local-wait-queues';
import { WaitScope } from '../../lock/wait-scope';
import type { Lock } from '../../interfaces/lock.interface';
import { redisOwnerPrefix } from '../../inspection/lock-holder';
import type { AcquireRequest, DriverContext } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';
import { namesOfLock, releasedChannel, redisKeyNames, RedisKeyNames } from './redis-key-names';
import { commandTimeoutOf, quitWithin } from './redis-connection';
import { RedisDroppedConnections } from './redis-dropped-connections';
import { RedisInspection } from './redis-inspection';
import { RedisLockRemote, RedisLockServer } from './redis-lock-remote';
import { releaseListening, SubscriberConnection } from './redis-release-channels';
import { RedisReleaseSubscriber } from './redis-release-subscriber';
import { RedisRenewals } from './redis-renewals';
import { ScriptedRedis, withLockerScripts } from './redis-scripted-client';
import { FENCE_IDLE_MS, ReleaseAnnouncing } from './redis-scripts';
import { RedisWriteBatching } from './redis-write-batching';

/** When a waiter should re-check if no release was announced (lease of a dead holder ran out). */
const PTTL_SLACK_MS = 1;

/**
 * Fair mode: how long a waiter's place in the server's queue lasts unless renewed (every third of it).
 * A waiter that died keeps the lock idle at most this long after a release.
 */
export const FAIR_PLACE_MS = 2_000;

/**
 * A plain waiter that has asked this many times without getting the lock takes a place in the server's
 * queue, as a fair one would: a node that releases and asks again at once hears of its own release
 * first, and would otherwise win every time (one node took a hot key 6,099 times as often as another).
 * The first ask finds the lock held; the second is the first race after a release.
 */
const PLAIN_ASKS_BEFORE_QUEUEING = 2;

const DROPPED = 'the connection to redis dropped; the server may have restarted without it';

export class RedisLockDriver extends AbstractLockerDriver implements RedisLockServer {
  readonly type = 'redis';
  private readonly client: ScriptedRedis;
  private readonly subscriber: RedisReleaseSubscriber;
  /** Local waiters per lock name: only the first contends with the server, woken by published releases. */
  private readonly queues: LocalWaitQueues;
  /** Per lock name, the owner id of the local waiter that is first here (and so in the server's queue). */
  private readonly headOwners = new Map<string, string>();
  /** Owner ids are this prefix (a random id and who we are) and a counter: unique everywhere, and short to keep per lock. */
  private readonly ownerPrefix = redisOwnerPrefix(this.holder);
  private owners = 0;
  private readonly renewals: RedisRenewals;
  private readonly dropped: RedisDroppedConnections;
  private readonly writes: RedisWriteBatching;
  /** The deadline of every command (the client's `commandTimeout`), and the longest a renewal waits. */
  private readonly commandTimeout: number;
  /**
   * The highest fencing token this driver was given (the reply's text, as the script wants it): a fence
   * counter lost with a restart starts above it, even if the server's clock is now behind the old tokens.
   */
  private fenceFloor = '0';
  private highestToken = 0n;

  /**
   * `client` must be connected; the driver defines its scripts on it and closes it in `close()` when `ownsClient`.
   * `openSubscriber` opens the connection that hears releases (default: a duplicate of a single-server client);
   * `announcing` is how the scripts tell of them (SPUBLISH: `openSubscriber` opens a cluster client with sharded subscribers).
   */
  constructor(
    client: Redis | Cluster,
    context: DriverContext,
    private readonly ownsClient = true,
    openSubscriber: () => SubscriberConnection = () => (client as Redis).duplicate(),
    announcing: ReleaseAnnouncing = 'PUBLISH',
  ) {
    super(context);
    this.client = withLockerScripts(client, announcing);
    this.commandTimeout = commandTimeoutOf(client);
    this.writes = new RedisWriteBatching(client, ownsClient);
    this.dropped = new RedisDroppedConnections(client, (which) => this.loseAll('disconnected', DROPPED, which));
    this.renewals = new RedisRenewals(this.client, this.commandTimeout, ownsClient, this.dropped);
    this.subscriber = new RedisReleaseSubscriber(openSubscriber, this.commandTimeout, releaseListening(announcing));
    this.inspection = new RedisInspection(client, this.commandTimeout, announcing);
    this.queues = new LocalWaitQueues((lock) => {
      let recheck: NodeJS.Timeout | undefined;
      // A release naming the fair queue's first waiter wakes only the process where that waiter is first.
      // Others look again once that waiter's place would have lapsed, in case it died.
      const onRelease = (next?: string) => {
        if (!next || this.headOwners.get(lock) === next) return this.queues.wakeHead(lock);
        clearTimeout(recheck);
        recheck = setTimeout(() => this.queues.wakeHead(lock), FAIR_PLACE_MS);
        recheck.unref();
      };
      const listening = this.subscriber.listen(releasedChannel(lock), onRelease);
      const close = () => {
        clearTimeout(recheck);
        listening.stop();
      };
      return { ready: listening.ready, close };
    });
  }

  /**
   * Connections this driver uses: the command connection, plus the shared subscriber once someone waited
   * (with sharded pub/sub that one is a cluster client, itself with a connection per master where keys are waited on).
   */
  get connectionCount(): number {
    return 1 + this.subscriber.connectionCount;
  }

  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const names = redisKeyNames(request.keyPrefix, request.key);
    const scope = new WaitScope(request);
    scope.check();
    // One owner per call: a retried attempt whose first reply was lost finds its own lock, not a stranger's.
    const owner = this.ownerId(++this.owners);
    if (!request.wait) {
      const result = await this.attempt(names, request, owner);
      return typeof result === 'number' ? null : result;
    }
    return this.queues.take(names.lock, scope, (turn) => this.waitAsHead(names, request, owner, turn));
  }

  async close(): Promise<void> {
    this.renewals.stop();
    this.dropped.stopListening();
    await Promise.all([this.subscriber.close(), this.ownsClient && quitWithin(this.client, this.commandTimeout)]);
  }

  protected onSettled(lock: HeldLock): void {
    this.renewals.untrack(lock);
  }

  protected override onExtended(lock: HeldLock): void {
    if (lock.keepAlive) this.renewals.track(lock);
  }

  /**
   * One SET NX: the lock, or how long until it is worth trying again (a fair waiter also takes or renews
   * its place in the queue). If no reply comes, frees what it may have taken.
   */
  private async attempt(names: RedisKeyNames, request: AcquireRequest, owner: string, queued = request.fair): Promise<HeldLock | number> {
    const sentAt = monotonicNow();
    const place = queued && request.wait ? FAIR_PLACE_MS : 0;
    let taken: number;
    let value: string | number;
    try {
      this.writes.beforeSend();
      [taken, value] = await this.client.lockerAcquire(
        names.lock,
        names.fence,
        names.queue,
        names.queueLeases,
        owner,
        request.ttl,
        FENCE_IDLE_MS,
        place,
        this.fenceFloor,
      );
    } catch (error) {
      this.release(names.lock, owner).catch(() => undefined);
      throw error;
    }
    if (taken !== 1) return Number(value);
    const remote = new RedisLockRemote(this, names.lock, owner);
    const fencingToken = BigInt(value);
    if (fencingToken > this.highestToken) {
      this.highestToken = fencingToken;
      this.fenceFloor = String(value);
    }
    const lock = this.hold(request, { fencingToken, sentAt, remote });
    if (request.keepAlive) this.renewals.track(lock);
    return lock;
  }

  /** The first local waiter: tries now, then whenever a release is seen or the holder's lease should have run out. */
  private async waitAsHead(names: RedisKeyNames, request: AcquireRequest, owner: string, turn: Turn): Promise<Lock> {
    this.headOwners.set(names.lock, owner);
    let queued = request.fair;
    try {
      for (let asked = 1; ; asked++) {
        queued ||= asked > PLAIN_ASKS_BEFORE_QUEUEING;
        turn.attempting();
        const result = await this.attempt(names, request, owner, queued);
        if (typeof result !== 'number') return result;
        const retryIn = Math.max(result, 0) + PTTL_SLACK_MS;
        // a queued waiter renews its place in the server's queue before it lapses
        await turn.sleep(queued ? Math.min(retryIn, FAIR_PLACE_MS / 3) : retryIn);
      }
    } catch (error) {
      if (queued) this.client.lockerLeaveQueue(names.queue, names.queueLeases, owner, names.channel).catch(() => undefined);
      throw error;
    } finally {
      if (this.headOwners.get(names.lock) === owner) this.headOwners.delete(names.lock);
    }
  }

  /** @internal The owner id with counter `serial`, and back: a held lock keeps the number, not the (long) id. */
  ownerId(serial: number): string {
    return this.ownerPrefix + serial.toString(36);
  }

  /** @internal See ownerId. */
  ownerSerial(owner: string): number {
    return parseInt(owner.slice(this.ownerPrefix.length), 36);
  }

  /** @internal owner-checked release, for RedisLockRemote. */
  async release(lockName: string, owner: string): Promise<void> {
    const names = namesOfLock(lockName);
    this.writes.beforeSend();
    const released = this.client.lockerRelease(names.lock, names.queue, names.queueLeases, owner, names.channel);
    // A local waiter tries at once: its attempt goes down the same connection after the release, so the
    // server runs them in that order and the handoff costs one round trip.
    this.queues.wakeHead(names.lock);
    try {
      await released;
    } catch (error) {
      // No answer: the server may still have it, or run it late. Owner-checked, so sent again when the connection is back.
      this.dropped.releaseWhenBack(new RedisLockRemote(this, lockName, owner));
      throw error;
    }
  }

  /** @internal See RedisRenewals.renew. */
  renew(remotes: RedisLockRemote[], ttls: number[]): Promise<boolean[]> {
    return this.renewals.renew(remotes, ttls);
  }
}
