import { isPassingFault } from '../../errors/passing-fault';
import type { Cluster, Redis } from 'ioredis';
import { AbstractLockerDriver } from '../abstract-locker.driver';
import { LockKind, namespaceOf } from '../../acquisition/lock-kind';
import type { HeldLock } from '../../lock/held-lock';
import { LocalWaitQueues, Turn } from '../../lock/local-wait-queues';
import { WaitScope } from '../../lock/wait-scope';
import type { Lock } from '../../interfaces/lock.interface';
import { redisOwnerPrefix } from '../../inspection/lock-holder';
import type { LeaderInfo } from '../../interfaces/election.interface';
import type { AcquireRequest, DriverContext, LeaderWatch } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';
import { namesOfLock, redisKeyNames, RedisKeyNames, releasedChannel } from './redis-key-names';
import { commandTimeoutOf, quitWithin } from './redis-connection';
import { RedisDroppedConnections } from './redis-dropped-connections';
import { RedisInspection } from './redis-inspection';
import { RedisLeadership } from './redis-leadership';
import { RedisLockRemote, RedisLockServer } from './redis-lock-remote';
import { releaseListening, SubscriberConnection } from './redis-release-channels';
import { RedisRefusals } from './redis-permission-error';
import { probeRedisPermissions } from './redis-permission-probe';
import { quietContext } from '../permission-probe';
import { RedisReleaseSubscriber } from './redis-release-subscriber';
import { RedisRenewals } from './redis-renewals';
import { ScriptedRedis, withLockerScripts } from './redis-scripted-client';
import type { ReleaseAnnouncing } from './redis-scripts';
import { exclusiveProtocol, RedisLockProtocol, sharedProtocol } from './redis-lock-protocols';
import { QueuedHead, RedisGrants } from './redis-grants';
import { RedisWriteBatching } from './redis-write-batching';

/** When a waiter should re-check if no release was announced (lease of a dead holder ran out). */
const PTTL_SLACK_MS = 1;

/**
 * How long a waiter's place in the server's queue lasts unless renewed (every third of it, or of its TTL
 * if shorter), and the longest lease a release grants it (the grantee's keep-alive moves it to its TTL). A
 * waiter that died loses its place within this time, and if granted the lock first, lets it go this long
 * after the grant.
 */
export const FAIR_PLACE_MS = 2_000;

const DROPPED = 'the connection to redis dropped; the server may have restarted without it';

/**
 * The lease a release grants a waiter: with keep-alive, its TTL but at most FAIR_PLACE_MS (a waiter that
 * died lets it go that soon; a live one renews it a third of the way in, or has released it before, as a
 * hot key's holder does); a fixed-TTL lock gets its own TTL, since nothing would extend it.
 */
const grantLease = (request: AcquireRequest): number => (request.keepAlive ? Math.min(request.ttl, FAIR_PLACE_MS) : request.ttl);

export class RedisLockDriver extends AbstractLockerDriver implements RedisLockServer {
  readonly type = 'redis';
  readonly kinds: readonly LockKind[] = ['lock', 'permit', 'read', 'write', 'leader'];
  private readonly client: ScriptedRedis;
  /** The scripts of each namespace: a mutex's (one holder), and those of the kinds that share a key. */
  private readonly exclusive: RedisLockProtocol;
  private readonly shared: RedisLockProtocol;
  private readonly subscriber: RedisReleaseSubscriber;
  private readonly leadership: RedisLeadership;
  /** Local waiters per lock name: only the first contends with the server, woken by published releases. */
  private readonly queues: LocalWaitQueues;
  /** Per lock name, the local waiter that is first here (and so in the server's queue), and grants to it. */
  private readonly grants = new RedisGrants((lock) => this.queues.wakeHead(lock), FAIR_PLACE_MS);
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
    private readonly openSubscriber: () => SubscriberConnection = () => (client as Redis).duplicate(),
    private readonly announcing: ReleaseAnnouncing = 'PUBLISH',
    /** The server's ACL refusals, as errors that name what the user lacks (a probe's copy shares its driver's). */
    private readonly refusals = new RedisRefusals(client, context.instanceId, ownsClient),
  ) {
    super(context);
    this.client = withLockerScripts(client, announcing);
    this.exclusive = exclusiveProtocol(this.client);
    this.shared = sharedProtocol(this.client);
    this.commandTimeout = commandTimeoutOf(client);
    this.writes = new RedisWriteBatching(client, ownsClient);
    this.dropped = new RedisDroppedConnections(client, (which, detail = DROPPED) => this.loseAll('disconnected', detail, which));
    this.renewals = new RedisRenewals(this.client, this.commandTimeout, ownsClient, this.dropped, this.refusals);
    this.subscriber = new RedisReleaseSubscriber(openSubscriber, this.commandTimeout, releaseListening(announcing));
    this.leadership = new RedisLeadership(client, this.subscriber, announcing);
    this.inspection = new RedisInspection(client, this.commandTimeout, announcing);
    this.queues = new LocalWaitQueues((lock) => {
      // a grant names its waiter: only that waiter's process acts on it
      const listening = this.subscriber.listen(releasedChannel(lock), (message) => this.grants.heard(lock, message));
      return { ready: listening.ready, close: () => listening.stop() };
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
    const names = redisKeyNames(request.keyPrefix, request.key, namespaceOf(request.kind));
    const scope = new WaitScope(request);
    scope.check();
    // One owner per call: a retried attempt whose first reply was lost finds its own lock, not a stranger's.
    const owner = this.ownerId(++this.owners);
    if (!request.wait) {
      const result = await this.attempt(names, request, owner);
      return typeof result === 'number' ? null : result;
    }
    return this.queues.take(names.lock, scope, (turn) => this.waitAsHead(names, request, owner, turn, scope));
  }

  /** Elections: see RedisLeadership. */
  proclaim(lock: Lock, value: string | undefined): Promise<boolean> {
    return this.leadership.proclaim(lock as HeldLock, value);
  }

  leader(keyPrefix: string, name: string): Promise<LeaderInfo | null> {
    return this.leadership.leader(keyPrefix, name);
  }

  watchLeader(keyPrefix: string, name: string, look: (leader: LeaderInfo | null) => void): LeaderWatch {
    return this.leadership.watch(keyPrefix, name, look);
  }

  /** LockerDriver.probe, on a copy of this driver (see probeRedisPermissions). */
  probe(keyPrefix: string): Promise<void> {
    const { client, openSubscriber, announcing, refusals, commandTimeout } = this;
    const copy = new RedisLockDriver(client, quietContext(this.instanceId), false, openSubscriber, announcing, refusals);
    return probeRedisPermissions(
      { copy, client, refusals, openSubscriber, listening: releaseListening(announcing), commandTimeout },
      keyPrefix,
    );
  }

  async close(): Promise<void> {
    this.leadership.close();
    this.renewals.stop();
    this.grants.stop();
    this.queues.closeLingering();
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
   * One SET NX: the lock, or how long until it is worth trying again. A waiter (`head`) also takes or
   * renews its place in the server's queue. If no reply comes, frees what it may have taken.
   */
  private async attempt(names: RedisKeyNames, request: AcquireRequest, owner: string, head?: QueuedHead): Promise<HeldLock | number> {
    const sentAt = monotonicNow();
    if (head) head.since ??= sentAt;
    let taken: number;
    let value: string | number;
    let fence: string | undefined;
    try {
      this.writes.beforeSend();
      request.asking?.();
      [taken, value, fence] = await this.protocolOf(request.kind).attempt(
        names,
        owner,
        request,
        head ? FAIR_PLACE_MS : 0,
        this.fenceFloor,
        grantLease(request),
      );
    } catch (error) {
      this.release(names.lock, owner, request.kind).catch(() => undefined);
      throw this.refusals.explain(error, names.lock);
    }
    request.answered?.();
    if (taken === 0) {
      if (head) this.grants.busy(head, sentAt, fence as string);
      return Number(value);
    }
    // 2: a release granted it to us before this attempt ran
    if (taken === 2 && head) return this.holdGranted(names, request, owner, String(value), head, sentAt);
    return this.holdTaken(names, request, owner, String(value), sentAt, sentAt);
  }

  private holdTaken(
    names: RedisKeyNames,
    request: AcquireRequest,
    owner: string,
    token: string,
    sentAt: number,
    /** When the command that answered with the lock was sent. */
    askedAt: number,
    lease?: number,
  ): HeldLock | Promise<HeldLock> {
    const remote = new RedisLockRemote(this, names.lock, owner, request.kind);
    const fencingToken = BigInt(token);
    if (fencingToken > this.highestToken) {
      this.highestToken = fencingToken;
      this.fenceFloor = token;
    }
    const lock = this.hold(request, { fencingToken, sentAt, remote, lease });
    if (request.keepAlive) this.renewals.track(lock, sentAt + (lease ?? request.ttl) / 3);
    return this.renewals.confirmReplicated(lock, askedAt);
  }

  /** A lock a release granted to `head`: its lease (see grantLease) counts from `head.since`. */
  private holdGranted(
    names: RedisKeyNames,
    request: AcquireRequest,
    owner: string,
    token: string,
    head: QueuedHead,
    /** When the command that found the grant was sent (a grant heard on the channel: now). */
    askedAt = monotonicNow(),
  ): HeldLock | Promise<HeldLock> {
    return this.holdTaken(names, request, owner, token, head.since as number, askedAt, grantLease(request));
  }

  /**
   * The first local waiter: asks, and takes a place in the server's queue; then sleeps until a release
   * grants it the lock, renewing its place (and so `since`) every third of FAIR_PLACE_MS or of its TTL.
   * It asks again when that sleep ends, so a holder that died without releasing is outlived.
   */
  private async waitAsHead(names: RedisKeyNames, request: AcquireRequest, owner: string, turn: Turn, scope: WaitScope): Promise<Lock> {
    const head = this.grants.enter(names.lock, owner);
    try {
      for (;;) {
        turn.attempting();
        const result = await this.attempt(names, request, owner, head);
        if (typeof result !== 'number') return result;
        // a grant may have been heard while the attempt was in flight
        if (head.grantedToken === undefined) await turn.sleep(Math.min(result + PTTL_SLACK_MS, FAIR_PLACE_MS / 3, request.ttl / 3));
        if (head.grantedToken === undefined) continue;
        scope.check(); // a grant heard after the wait's deadline or abort is passed on (below), not taken
        return this.holdGranted(names, request, owner, head.grantedToken, head);
      }
    } catch (error) {
      // if a release granted us the lock meanwhile, the script gives it to the next waiter
      this.protocolOf(request.kind)
        .leaveQueue(names, owner, request.kind, this.fenceFloor)
        .catch(() =>
          this.grants.abandon(owner, (lock) => {
            this.release(lock, owner, request.kind).catch(() => undefined);
          }),
        );
      throw error;
    } finally {
      this.grants.leave(names.lock, head);
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

  /** @internal owner-checked release, for RedisLockRemote: the server grants the lock to its first waiters. */
  async release(lockName: string, owner: string, kind: LockKind): Promise<void> {
    this.writes.beforeSend();
    let reply: (number | string)[];
    try {
      reply = await this.protocolOf(kind).release(namesOfLock(lockName), owner, kind, this.fenceFloor);
    } catch (error) {
      // No answer: the server may still have it, or run it late. Owner-checked, so sent again when the connection
      // is back; one the server refused would only be refused again
      if (isPassingFault(error)) this.dropped.releaseWhenBack(new RedisLockRemote(this, lockName, owner, kind));
      throw this.refusals.explain(error, lockName);
    }
    // granted to waiters, maybe one here: it takes the lock now, without waiting for the message
    for (let i = 1; i + 1 < reply.length; i += 2) this.grants.granted(lockName, String(reply[i]), String(reply[i + 1]));
    if (reply.length === 1 && reply[0] === 1) this.queues.wakeHead(lockName); // released to no one: a waiter here not yet queued may take it
  }

  private protocolOf(kind: LockKind): RedisLockProtocol {
    return kind === 'lock' || kind === 'leader' ? this.exclusive : this.shared;
  }

  /** @internal See RedisRenewals.renew. */
  renew(remotes: RedisLockRemote[], ttls: number[]): Promise<boolean[]> {
    return this.renewals.renew(remotes, ttls);
  }
}
