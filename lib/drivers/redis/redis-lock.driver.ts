import type { Cluster, Redis } from 'ioredis';
import { AbstractLockerDriver } from '../abstract-locker.driver';
import type { HeldLock, LockRemote } from '../../lock/held-lock';
import { RenewalBatcher } from '../../lock/renewal-batcher';
import { LocalWaitQueues, Turn } from '../../lock/local-wait-queues';
import { WaitScope } from '../../lock/wait-scope';
import type { Lock } from '../../interfaces/lock.interface';
import { redisOwnerPrefix } from '../../inspection/lock-holder';
import type { AcquireRequest, DriverContext } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';
import { settleWithin } from '../../utils/settle-within';
import { clusterKeySlot } from './redis-cluster-slot';
import { namesOfLock, releasedChannel, redisKeyNames, RedisKeyNames } from './redis-key-names';
import { commandTimeoutOf, isCommandTimeout, quitWithin } from './redis-connection';
import { RedisInspection } from './redis-inspection';
import { RedisReleaseSubscriber } from './redis-release-subscriber';
import { ACQUIRE_SCRIPT, FENCE_IDLE_MS, LEAVE_QUEUE_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './redis-scripts';

/** The client with our scripts defined on it (EVALSHA, with EVAL after a server restart). */
type ScriptedRedis = (Redis | Cluster) & LockerCommands;

interface LockerCommands {
  lockerAcquire(
    lock: string,
    fence: string,
    queue: string,
    queueLeases: string,
    owner: string,
    ttl: number,
    fenceIdle: number,
    queuePlace: number,
    fenceFloor: string,
  ): Promise<[number, string | number]>;
  lockerLeaveQueue(queue: string, queueLeases: string, owner: string, channel: string): Promise<number>;
  lockerRelease(lock: string, queue: string, queueLeases: string, owner: string, channel: string): Promise<number>;
  lockerRenew(keyCount: number, ...keysThenOwnersAndTtls: (string | number)[]): Promise<number[]>;
}

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

export class RedisLockDriver extends AbstractLockerDriver {
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
  private readonly renewals = new RenewalBatcher((locks) => this.renewMany(locks));
  /**
   * Cluster: a script may only touch keys of one slot, and a master that does not answer must hold up
   * only its own locks' renewals, so each slot with locks has its own batcher (one script per slot per tick).
   */
  private readonly slotRenewals?: Map<number, RenewalBatcher>;
  /** Locks given up when a connection dropped, or whose release got no answer: to release once it is back. */
  private readonly droppedRemotes: RedisLockRemote[] = [];
  /** Removes what this driver listens to on its connections (an app's own client outlives it). */
  private readonly listeners: (() => void)[] = [];
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
   * `openSubscriber` opens the connection that hears releases (default: a duplicate of a single-server client).
   */
  constructor(
    client: Redis | Cluster,
    context: DriverContext,
    private readonly ownsClient = true,
    openSubscriber: () => Redis = () => (client as Redis).duplicate(),
  ) {
    super(context);
    client.defineCommand('lockerAcquire', { numberOfKeys: 4, lua: ACQUIRE_SCRIPT });
    client.defineCommand('lockerLeaveQueue', { numberOfKeys: 2, lua: LEAVE_QUEUE_SCRIPT });
    client.defineCommand('lockerRelease', { numberOfKeys: 3, lua: RELEASE_SCRIPT });
    client.defineCommand('lockerRenew', { lua: RENEW_SCRIPT });
    this.client = client as ScriptedRedis;
    this.commandTimeout = commandTimeoutOf(client);
    // A dropped connection may be a server restarted without its data: then a waiter elsewhere can take our
    // locks the moment it reconnects, before any renewal of ours could learn of it. So they are lost now.
    if (client.isCluster) {
      this.slotRenewals = new Map();
      this.loseLocksOfDroppedNodes(client as Cluster);
    } else {
      this.listen(client, 'close', () => this.dropLocks());
      this.listen(client, 'ready', () => this.releaseDropped());
    }
    this.subscriber = new RedisReleaseSubscriber(openSubscriber, this.commandTimeout);
    this.inspection = new RedisInspection(client, this.commandTimeout);
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

  private dropLocks(which?: (lock: HeldLock) => boolean): void {
    const lost = this.loseAll('disconnected', DROPPED, which);
    this.droppedRemotes.push(...lost.map((lock) => lock.remote as RedisLockRemote));
  }

  /**
   * Back on a server that kept its data (a replica promoted by Sentinel, a blip): free the locks we gave up,
   * so no one waits out their TTL. Owner-checked, so harmless where they are gone or taken since.
   */
  private releaseDropped(): void {
    for (const remote of this.droppedRemotes.splice(0)) remote.release().catch(() => undefined);
  }

  /** Cluster: when the connection to a master drops, the locks in its slots are lost; the others stay held. */
  private loseLocksOfDroppedNodes(cluster: Cluster): void {
    const watch = (node: Redis) => {
      this.listen(node, 'close', () => this.dropLocksOf(node));
      this.listen(node, 'ready', () => this.releaseDropped());
    };
    cluster.nodes('all').forEach(watch);
    this.listen(cluster, '+node', watch);
  }

  /** Listens on a client connection until close(): an app's own client outlives this driver. */
  private listen<A extends unknown[]>(emitter: Redis | Cluster, event: string, listener: (...args: A) => void): void {
    emitter.on(event, listener as (...args: unknown[]) => void);
    this.listeners.push(() => emitter.off(event, listener as (...args: unknown[]) => void));
  }

  /** The locks whose commands `connection` carries are lost (it dropped): a single server's, or a master's slots'. */
  private dropLocksOf(connection: Redis): void {
    if (!this.client.isCluster) return this.dropLocks();
    const cluster = this.client as Cluster;
    const dropped = `${connection.options.host}:${connection.options.port}`;
    this.dropLocks((lock) => cluster.slots[clusterKeySlot((lock.remote as RedisLockRemote).lock)]?.[0] === dropped);
  }

  /** Connections this driver uses: the command connection, plus the shared subscriber once someone waited. */
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
    this.slotRenewals?.forEach((renewals) => renewals.stop());
    for (const stop of this.listeners.splice(0)) stop();
    await Promise.all([this.subscriber.close(), this.ownsClient && quitWithin(this.client, this.commandTimeout)]);
  }

  protected onSettled(lock: HeldLock): void {
    if (!this.slotRenewals) return this.renewals.untrack(lock);
    const slot = clusterKeySlot((lock.remote as RedisLockRemote).lock);
    const renewals = this.slotRenewals.get(slot);
    renewals?.untrack(lock);
    if (renewals?.size === 0) this.slotRenewals.delete(slot);
  }

  protected override onExtended(lock: HeldLock): void {
    if (lock.keepAlive) this.track(lock);
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
    if (fencingToken > this.highestToken) [this.highestToken, this.fenceFloor] = [fencingToken, String(value)];
    const lock = this.hold(request, { fencingToken, sentAt, remote });
    if (request.keepAlive) this.track(lock);
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
    const released = this.client.lockerRelease(names.lock, names.queue, names.queueLeases, owner, names.channel);
    // A local waiter tries at once: its attempt goes down the same connection after the release, so the
    // server runs them in that order and the handoff costs one round trip.
    this.queues.wakeHead(names.lock);
    try {
      await released;
    } catch (error) {
      // No answer: the server may still have it, or run it late. Owner-checked, so sent again when the connection is back.
      this.droppedRemotes.push(new RedisLockRemote(this, lockName, owner));
      throw error;
    }
  }

  /**
   * @internal renews the given locks (each with its TTL) in one script; true per lock still ours. All must
   * share one slot in a cluster. A renewal unanswered within a renewal period (a third of the shortest
   * TTL, at most command_timeout) is a lost connection: the server may have restarted behind a silent
   * link and let someone else in, so the connection is dropped and its locks with it.
   */
  async renew(remotes: RedisLockRemote[], ttls: number[]): Promise<boolean[]> {
    const args = remotes.flatMap((remote, index) => [remote.owner, ttls[index]]);
    const connection = this.connectionServing(remotes[0].lock);
    const stream = connection?.stream;
    const renewing = this.client.lockerRenew(remotes.length, ...remotes.map((remote) => remote.lock), ...args);
    const within = Math.min(this.commandTimeout, Math.ceil(ttls.reduce((a, b) => Math.min(a, b)) / 3));
    // the second look lets a reply that already arrived while this process was busy count
    if ((await settleWithin(renewing, within)) || (await settleWithin(renewing, 0))) {
      try {
        return (await renewing).map((value) => value === 1);
      } catch (error) {
        if (!isCommandTimeout(error)) throw error;
      }
    }
    const error = new Error(`redis did not answer a renewal within ${within} ms; the connection is dropped`);
    // unless it closed since (its 'close' lost the locks): then it may be a new, healthy one
    if (connection && stream && connection.stream === stream) {
      this.dropLocksOf(connection); // now: the caller of extend() learns it with this error
      // ioredis reconnects; an app's own client is left alone (its other commands are not ours to fail)
      if (this.ownsClient) stream.destroy(error);
    }
    throw error;
  }

  /** The connection that carries commands on `lockName`: the client, or in a cluster its slot's master. */
  private connectionServing(lockName: string): Redis | undefined {
    if (!this.client.isCluster) return this.client as Redis;
    const cluster = this.client as Cluster;
    const address = cluster.slots[clusterKeySlot(lockName)]?.[0];
    return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address);
  }

  private renewMany(locks: HeldLock[]): Promise<boolean[]> {
    return this.renew(
      locks.map((lock) => lock.remote as RedisLockRemote),
      locks.map((lock) => lock.ttl),
    );
  }

  private track(lock: HeldLock): void {
    if (!this.slotRenewals) return this.renewals.track(lock);
    const slot = clusterKeySlot((lock.remote as RedisLockRemote).lock);
    let renewals = this.slotRenewals.get(slot);
    if (!renewals) {
      renewals = new RenewalBatcher((locks) => this.renewMany(locks));
      this.slotRenewals.set(slot, renewals);
    }
    renewals.track(lock);
  }
}

/** The server side of one held lock: its name and our owner id's counter, nothing more (there may be thousands). */
class RedisLockRemote implements LockRemote {
  /** Our owner id's counter: the id, which names the holder's host, is rebuilt when sent instead of kept per lock. */
  private readonly serial: number;

  constructor(
    private readonly driver: RedisLockDriver,
    readonly lock: string,
    owner: string,
  ) {
    this.serial = driver.ownerSerial(owner);
  }

  get owner(): string {
    return this.driver.ownerId(this.serial);
  }

  release(): Promise<void> {
    return this.driver.release(this.lock, this.owner);
  }

  async extend(ttl: number): Promise<boolean> {
    return (await this.driver.renew([this], [ttl]))[0];
  }
}
