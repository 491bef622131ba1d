import { Logger } from '@nestjs/common';
import type { LockKind } from '../acquisition/lock-kind';
import { LockerUnavailableError, LockLostError, LockLostReason, LockReleasedError } from '../errors';
import type { Lock } from '../interfaces/lock.interface';
import type { LockEvent, LockEventSink } from '../interfaces/lock-event.interface';
import { leaseSafetyMargin, monotonicNow } from '../utils/clock';
import { assertTtl } from '../utils/lock-options';
import { armLeaseDeadline, disarmLeaseDeadline } from './lease-deadline';

/** The server side of one held lock; every call is owner-checked by the driver. */
export interface LockRemote {
  release(): Promise<void>;
  /** Resolves false when the server says the lock is no longer ours. */
  extend(ttl: number): Promise<boolean>;
}

/** The driver that took a lock: the lock reports to it (one object for all its locks, not closures per lock). */
export interface HeldLockOwner {
  readonly instanceId: string;
  /** The driver type, named in errors. */
  readonly type: string;
  readonly events: LockEventSink;
  /** Called once, when the lock is released or lost. */
  lockSettled(lock: HeldLock): void;
  /** Called after a successful extend(), so keep-alive can move to the new ttl / 3. */
  lockExtended(lock: HeldLock): void;
}

export interface HeldLockInit {
  key: string;
  section: string;
  kind: LockKind;
  fencingToken: bigint;
  ttl: number;
  keepAlive: boolean;
  /** Monotonic time the acquiring request was sent: the lease cannot have started earlier. */
  sentAt: number;
  /** The lease the server started, when shorter than `ttl` (a grant, which keep-alive renews a third of the way in). */
  lease?: number;
  remote: LockRemote;
  owner: HeldLockOwner;
}

const logger = new Logger('NestLocker');

/** An event as the lock reports it; the lock adds who and what. */
type LockEventBody = LockEvent extends infer E
  ? E extends LockEvent
    ? Omit<E, 'driverInstanceId' | 'key' | 'kind' | 'fencingToken'>
    : never
  : never;

/**
 * The driver-independent half of a lock: local lease deadline, loss detection, signal and events.
 * Drivers confirm renewals with `confirm(sentAt)` and report refusals with `lose('refused')`.
 */
export class HeldLock implements Lock {
  readonly key: string;
  readonly section: string;
  readonly kind: LockKind;
  readonly fencingToken: bigint;
  /** False once `expireIn()` has run: the lease is left to run out. */
  keepAlive: boolean;
  /** @internal the driver's handle on the server side (drivers keep per-lock state here, not in maps). */
  readonly remote: LockRemote;
  private readonly owner: HeldLockOwner;
  private currentTtl: number;
  private deadline: number;
  private lastSentAt: number;
  /** Monotonic send time of the last extend(); renewals sent before it no longer count. */
  private extendSentAt = -Infinity;
  private state: 'held' | 'released' | 'lost' = 'held';
  private lost?: LockLostError;
  /** Made only when asked for: an Error's stack trace costs more than the rest of a release. */
  private releaseReason?: LockReleasedError;
  /** Made on first use of `signal`: an AbortSignal costs about 700 bytes, most locks never read it. */
  private controller?: AbortController;
  /** A precise timer for the last few ms before the deadline (the shared slot timer fires early). */
  private finalTimer?: NodeJS.Timeout;

  constructor(init: HeldLockInit) {
    this.key = init.key;
    this.section = init.section;
    this.kind = init.kind;
    this.remote = init.remote;
    this.owner = init.owner;
    this.fencingToken = init.fencingToken;
    this.keepAlive = init.keepAlive;
    this.currentTtl = init.ttl;
    this.lastSentAt = init.sentAt;
    const lease = init.lease ?? init.ttl;
    this.deadline = init.sentAt + lease - leaseSafetyMargin(lease);
    this.armDeadline();
    this.emit({ type: 'acquired' });
  }

  get held(): boolean {
    return this.state === 'held' && monotonicNow() < this.deadline;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      const reason = this.endReason();
      if (reason) this.controller.abort(reason);
    }
    return this.controller.signal;
  }

  /** Why it was lost; undefined while held or after a release. */
  get lostReason(): LockLostError | undefined {
    return this.lost;
  }

  get ttl(): number {
    return this.currentTtl;
  }

  /** Monotonic time the last confirmed renewal (or the acquisition) was sent. */
  get renewedSentAt(): number {
    return this.lastSentAt;
  }

  get settled(): boolean {
    return this.state !== 'held';
  }

  /**
   * A renewal sent at `sentAt` with `ttl` was confirmed by the server: the lease runs at least until
   * sentAt + ttl. A renewal sent before the last extend() is stale: the extend decided the lease.
   */
  confirm(sentAt: number, ttl = this.currentTtl): void {
    if (this.state !== 'held' || sentAt < this.extendSentAt) return;
    this.lastSentAt = Math.max(this.lastSentAt, sentAt);
    this.deadline = Math.max(this.deadline, sentAt + ttl - leaseSafetyMargin(ttl));
  }

  /** A renewal failed without an answer (network, server down); the deadline timer decides on loss. */
  renewalFailed(error: unknown): void {
    if (this.state !== 'held') return;
    logger.warn(`Renewal of lock "${this.key}" failed, retrying until its lease deadline: ${String(error)}`);
    this.emit({ type: 'renewal-failed', error });
  }

  lose(reason: LockLostReason, detail?: string, cause?: unknown): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    const error = new LockLostError({ key: this.key, section: this.section, reason, detail, cause });
    this.lost = error; // before settling: the driver reads it (etcd retires a session on 'deadline')
    this.controller?.abort(error);
    this.settle();
    if (reason === 'expired') logger.warn(error.message);
    else logger.error(error.message);
    this.emit({ type: 'lost', error });
    // Free the key at once if the server still has it as ours (owner-checked, so harmless otherwise).
    if (reason !== 'refused') this.remote.release().catch(() => undefined);
  }

  /**
   * Sets the lease to `ttl` from now, longer or shorter. Renewals sent from now on carry the new TTL;
   * the deadline becomes exactly sentAt + ttl - margin (a shorter TTL must shorten it too).
   */
  async extend(ttl: number = this.currentTtl): Promise<void> {
    assertTtl(ttl, 'ttl', 'extend()', this.keepAlive);
    if (!this.held) throw this.lostError('extend() was called after the lock was released or lost');
    const sentAt = monotonicNow();
    this.currentTtl = ttl;
    this.extendSentAt = sentAt;
    const ours = await this.remote.extend(ttl).catch((error: unknown) => {
      throw this.unavailable(error);
    });
    if (!ours) {
      this.lose('refused', 'extend() was refused by the server');
      throw this.lost as Error;
    }
    if (this.state !== 'held') throw this.lostError('the lock was lost while extend() was in flight');
    this.lastSentAt = sentAt;
    this.deadline = sentAt + ttl - leaseSafetyMargin(ttl);
    this.armDeadline();
    this.owner.lockExtended(this);
    this.emit({ type: 'extended', ttl });
  }

  /**
   * Stops keep-alive at once, then frees the key on the server. Rejects when the server did not answer
   * (`LockerUnavailableError`) or refused: the lock then ends with its lease, which nothing renews now.
   */
  async release(): Promise<void> {
    if (this.state !== 'held') return;
    this.state = 'released';
    this.settle();
    this.controller?.abort(this.endReason());
    let failure: unknown;
    try {
      await this.remote.release();
    } catch (error) {
      failure = this.unavailable(error);
      logger.warn(`Release of lock "${this.key}" did not reach the server; it expires within ${this.currentTtl} ms: ${String(error)}`);
    }
    this.emit({ type: 'released' });
    if (failure) throw failure;
  }

  /**
   * @internal Shutdown inside a `minHold`: the lease is set to end `ttl` from now, and nothing here renews
   * or releases it any more, so the server frees the key then by itself. Throws if the server refused.
   */
  async expireIn(ttl: number): Promise<void> {
    this.keepAlive = false; // before extend(): drivers move a kept-alive lock to a lease of its own
    await this.extend(ttl);
    if (this.state !== 'held') return;
    this.state = 'released';
    this.settle();
    this.controller?.abort(this.endReason());
    this.emit({ type: 'released' });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** A client's error as ours (see LockerUnavailableError.wrap). */
  private unavailable(error: unknown): Error {
    return LockerUnavailableError.wrap(error, { key: this.key, section: this.section, driver: this.owner.type });
  }

  private lostError(detail: string): LockLostError {
    if (this.lost) return this.lost;
    return new LockLostError({ key: this.key, section: this.section, reason: 'refused', detail });
  }

  /** Why it ended (the signal's reason): a LockReleasedError or LockLostError; undefined while held. */
  private endReason(): Error | undefined {
    if (this.state === 'lost') return this.lost;
    if (this.state === 'released') return (this.releaseReason ??= new LockReleasedError(this.key, this.section));
    return undefined;
  }

  private settle(): void {
    disarmLeaseDeadline(this, this.finalTimer);
    this.owner.lockSettled(this);
  }

  /** See armLeaseDeadline: the shared slot timer, and a precise timer for the last stretch. */
  private armDeadline(): void {
    clearTimeout(this.finalTimer);
    this.finalTimer = armLeaseDeadline(this, this.deadline);
  }

  /** @internal called by the shared deadline timer. */
  checkDeadline(): void {
    if (this.state !== 'held') return;
    if (monotonicNow() < this.deadline) return this.armDeadline();
    if (this.keepAlive) this.lose('deadline', `no renewal confirmed within ${this.currentTtl} ms`);
    else this.lose('expired', `its ${this.currentTtl} ms TTL ran out`);
  }

  private emit(body: LockEventBody): void {
    // the body is a fresh literal of the caller's: completed in place (a spread copy costs more than the rest)
    const event = body as unknown as LockEvent;
    event.driverInstanceId = this.owner.instanceId;
    event.key = this.key;
    event.kind = this.kind;
    event.fencingToken = this.fencingToken;
    try {
      this.owner.events(event, this);
    } catch (error) {
      logger.error(`A lock event listener threw for "${this.key}": ${String(error)}`);
    }
  }
}
