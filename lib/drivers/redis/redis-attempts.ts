import type { LockKind } from '../../acquisition/lock-kind';
import type { HeldLock, HeldLockInit } from '../../lock/held-lock';
import type { AcquireRequest } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';
import type { RedisCohorts } from './redis-cohorts';
import type { QueuedHead, RedisGrants } from './redis-grants';
import type { RedisKeyNames } from './redis-key-names';
import { RedisLockProtocol, retakeKept } from './redis-lock-protocols';
import { NO_KEEP, RedisLockRemote, RedisLockServer, WAITED_FOR } from './redis-lock-remote';
import type { RedisRefusals } from './redis-permission-error';
import type { RedisRenewals } from './redis-renewals';
import type { ScriptedRedis } from './redis-scripted-client';
import type { RedisWriteBatching } from './redis-write-batching';

/**
 * How long a waiter's place in the server's queue lasts unless renewed (every third of it, or of its TTL
 * if shorter), and the longest lease a release grants it (the grantee's keep-alive moves it to its TTL). A
 * waiter that died loses its place within this time, and if granted the lock first, lets it go this long
 * after the grant.
 */
export const FAIR_PLACE_MS = 2_000;

/**
 * The lease a release grants a waiter: with keep-alive, its TTL but at most FAIR_PLACE_MS (a waiter that
 * died lets it go that soon; a live one renews it a third of the way in, or has released it before, as a
 * hot key's holder does); a fixed-TTL lock gets its own TTL, since nothing would extend it.
 */
const grantLease = (request: AcquireRequest): number => (request.keepAlive ? Math.min(request.ttl, FAIR_PLACE_MS) : request.ttl);

/** A default-mode mutex may be kept for a retake here (cohort handoff); a fair one, a leader or a shared kind, never. */
export const mayRetake = (request: AcquireRequest): boolean => request.kind === 'lock' && !request.fair;

/** How a lock was taken, for its release: whether someone waited (then the full script), whether it may be kept. */
const flagsOf = (request: AcquireRequest, waitedFor: boolean): number => (waitedFor ? WAITED_FOR : 0) | (mayRetake(request) ? 0 : NO_KEEP);

/** What an attempt needs of the driver. */
export interface AttemptContext {
  server: RedisLockServer;
  client: ScriptedRedis;
  protocolOf(kind: LockKind): RedisLockProtocol;
  grants: RedisGrants;
  cohorts: RedisCohorts;
  writes: RedisWriteBatching;
  renewals: RedisRenewals;
  /** Names what an ACL refusal lacks. */
  refusals: RedisRefusals;
  /** Builds the held lock (AbstractLockerDriver.hold). */
  hold(request: AcquireRequest, granted: Pick<HeldLockInit, 'fencingToken' | 'sentAt' | 'remote' | 'lease'>): HeldLock;
  release(lockName: string, owner: string, kind: LockKind, flags: number): Promise<void>;
}

/**
 * The requests that take a lock on redis, each one round trip: the uncontended take, the retake of a lock
 * kept here, and the attempt that minds the server's queue (a waiter's). Each one that gets no reply frees
 * what it may have taken. They also keep the fence floor: the highest token this driver was given.
 */
export class RedisAttempts {
  /**
   * The highest fencing token this driver was given (the reply's text, as the scripts want it): a fence
   * counter lost with a restart starts above it, even if the server's clock is now behind the old tokens.
   */
  floor = '0';
  private highestToken = 0n;

  constructor(private readonly context: AttemptContext) {}

  /**
   * The uncontended path (see RedisLockProtocol.take): the lock, or 'busy', or 'queued' when waiters are
   * queued and a full attempt must decide.
   */
  async take(names: RedisKeyNames, request: AcquireRequest, owner: string): Promise<HeldLock | 'busy' | 'queued'> {
    const { context } = this;
    const sentAt = monotonicNow();
    const protocol = context.protocolOf(request.kind);
    let token: number | string | null;
    try {
      context.writes.beforeSend();
      request.asking?.();
      token = await protocol.take(names, owner, request);
      if (token !== null && token < 0 && BigInt(-token) <= this.highestToken) token = (await this.raise(names, owner, request)) ?? 0;
    } catch (error) {
      this.giveBack(names, owner, request.kind);
      throw this.context.refusals.explain(error, names.lock);
    }
    request.answered?.();
    if (token === null) return 'queued';
    if (token === 0) return 'busy';
    return this.holdTaken(
      names,
      request,
      owner,
      typeof token === 'number' ? Math.abs(token) : token,
      sentAt,
      flagsOf(request, false),
      sentAt,
    );
  }

  /**
   * A lock kept here at its release (see RedisCohorts), taken back by `owner`, which must have no place in
   * the server's queue; undefined when there is none any more.
   */
  async retake(names: RedisKeyNames, request: AcquireRequest, owner: string): Promise<HeldLock | undefined> {
    const { context } = this;
    const kept = context.cohorts.claim(names.lock);
    if (kept === undefined) return undefined;
    const sentAt = monotonicNow();
    let token: number | string;
    try {
      context.writes.beforeSend();
      request.asking?.();
      token = await retakeKept(context.client, names, kept, owner, request.ttl);
      if (token < 0 && BigInt(-token) <= this.highestToken) token = (await this.raise(names, owner, request)) ?? 0;
    } catch (error) {
      // either may hold it now: both are passed on
      this.giveBack(names, kept, request.kind);
      this.giveBack(names, owner, request.kind);
      throw this.context.refusals.explain(error, names.lock);
    }
    request.answered?.();
    if (token === 0) return undefined;
    return this.holdTaken(
      names,
      request,
      owner,
      typeof token === 'number' ? Math.abs(token) : token,
      sentAt,
      flagsOf(request, true),
      sentAt,
    );
  }

  /**
   * One attempt that minds the server's queue: the lock, or how long until it is worth trying again. A
   * waiter (`head`) also takes or renews its place in the server's queue.
   */
  async attempt(names: RedisKeyNames, request: AcquireRequest, owner: string, head?: QueuedHead): Promise<HeldLock | number> {
    const { context } = this;
    const sentAt = monotonicNow();
    if (head) head.since ??= sentAt;
    let taken: number;
    let value: string | number;
    let fence: string | undefined;
    try {
      context.writes.beforeSend();
      request.asking?.();
      [taken, value, fence] = await context
        .protocolOf(request.kind)
        .attempt(names, owner, request, head ? FAIR_PLACE_MS : 0, this.floor, grantLease(request));
    } catch (error) {
      this.giveBack(names, owner, request.kind);
      throw this.context.refusals.explain(error, names.lock);
    }
    request.answered?.();
    if (taken === 0) {
      if (head) context.grants.busy(head, sentAt, fence as string);
      return Number(value);
    }
    // 2: a release granted it to us before this attempt ran
    if (taken === 2 && head) return this.holdGranted(names, request, owner, value, head, sentAt);
    return this.holdTaken(names, request, owner, value, sentAt, flagsOf(request, head !== undefined), sentAt);
  }

  /**
   * A fence seeded from the server clock alone (a negative token) may be behind tokens this driver was
   * given: raised above them. Null when the lock is no longer ours (force-released meanwhile).
   */
  private raise(names: RedisKeyNames, owner: string, request: AcquireRequest): Promise<number | string | null> {
    return this.context.protocolOf(request.kind).raiseFence(names, owner, request.kind, this.floor);
  }

  /** A lock a release here handed to this waiter (HANDOFF_SCRIPT): its whole TTL, from when that release was sent. */
  holdHandedOff(
    names: RedisKeyNames,
    request: AcquireRequest,
    owner: string,
    handedOff: { token: string; sentAt: number },
  ): HeldLock | Promise<HeldLock> {
    return this.holdTaken(names, request, owner, handedOff.token, handedOff.sentAt, flagsOf(request, true), handedOff.sentAt);
  }

  /** A lock a release granted to `head`: its lease (see grantLease) counts from `head.since`. */
  holdGranted(
    names: RedisKeyNames,
    request: AcquireRequest,
    owner: string,
    token: string | number,
    head: QueuedHead,
    /** When the command that found the grant was sent (a grant heard on the channel: now). */
    askedAt = monotonicNow(),
  ): HeldLock | Promise<HeldLock> {
    return this.holdTaken(names, request, owner, token, head.since as number, flagsOf(request, true), askedAt, grantLease(request));
  }

  private holdTaken(
    names: RedisKeyNames,
    request: AcquireRequest,
    owner: string,
    token: string | number,
    sentAt: number,
    flags: number,
    /** When the command that answered with the lock was sent. */
    askedAt: number,
    lease?: number,
  ): HeldLock | Promise<HeldLock> {
    const remote = new RedisLockRemote(this.context.server, names.lock, owner, request.kind, flags);
    const fencingToken = BigInt(token);
    if (fencingToken > this.highestToken) {
      this.highestToken = fencingToken;
      this.floor = String(token);
    }
    const lock = this.context.hold(request, { fencingToken, sentAt, remote, lease });
    if (request.keepAlive) this.context.renewals.track(lock, sentAt + (lease ?? request.ttl) / 3);
    // in a replicated topology, handed out once the replicas that could take over have it
    return this.context.renewals.confirmReplicated(lock, askedAt);
  }

  /** No reply: the server may have given `owner` the lock, or still may; given back (owner-checked), never kept. */
  private giveBack(names: RedisKeyNames, owner: string, kind: LockKind): void {
    this.context.release(names.lock, owner, kind, WAITED_FOR | NO_KEEP).catch(() => undefined);
  }
}
