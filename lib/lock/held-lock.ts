import { Logger } from '@nestjs/common';
import { LockLostError, LockLostReason, LockReleasedError } from '../errors';
import type { Lock } from '../interfaces/lock.interface';
import type { LockEvent, LockEventSink } from '../interfaces/lock-event.interface';
import { leaseSafetyMargin, monotonicNow } from '../utils/clock';
import { assertTtl } from '../utils/lock-options';

/** The server side of one held lock; every call is owner-checked by the driver. */
export interface LockRemote {
  release(): Promise<void>;
  /** Resolves false when the server says the lock is no longer ours. */
  extend(ttl: number): Promise<boolean>;
}

export interface HeldLockInit {
  key: string;
  section: string;
  driverInstanceId: string;
  fencingToken: bigint;
  ttl: number;
  keepAlive: boolean;
  /** Monotonic time the acquiring request was sent: the lease cannot have started earlier. */
  sentAt: number;
  remote: LockRemote;
  events: LockEventSink;
  /** Called once, when the lock is released or lost. */
  onSettled: (lock: HeldLock) => void;
  /** Called after a successful extend(), so keep-alive can move to the new ttl / 3. */
  onExtended?: (lock: HeldLock) => void;
}

const logger = new Logger('NestLocker');

/** An event as the lock reports it; the lock adds who and what. */
type LockEventBody = LockEvent extends infer E
  ? E extends LockEvent
    ? Omit<E, 'driverInstanceId' | 'key' | 'fencingToken'>
    : never
  : never;

/**
 * The driver-independent half of a lock: local lease deadline, loss detection, signal and events.
 * Drivers confirm renewals with `confirm(sentAt)` and report refusals with `lose('refused')`.
 */
export class HeldLock implements Lock {
  readonly key: string;
  readonly fencingToken: bigint;
  readonly keepAlive: boolean;
  private currentTtl: number;
  private deadline: number;
  private lastSentAt: number;
  /** Monotonic send time of the last extend(); renewals sent before it no longer count. */
  private extendSentAt = -Infinity;
  private state: 'held' | 'released' | 'lost' = 'held';
  private readonly controller = new AbortController();
  private deadlineTimer?: NodeJS.Timeout;

  constructor(private readonly init: HeldLockInit) {
    this.key = init.key;
    this.fencingToken = init.fencingToken;
    this.keepAlive = init.keepAlive;
    this.currentTtl = init.ttl;
    this.lastSentAt = init.sentAt;
    this.deadline = init.sentAt + init.ttl - leaseSafetyMargin(init.ttl);
    this.armDeadline();
    this.emit({ type: 'acquired' });
  }

  get held(): boolean {
    return this.state === 'held' && monotonicNow() < this.deadline;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get ttl(): number {
    return this.currentTtl;
  }

  get section(): string {
    return this.init.section;
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
    const error = new LockLostError({ key: this.key, section: this.init.section, reason, detail, cause });
    this.controller.abort(error);
    this.settle(); // after the abort: the driver reads the reason (etcd retires a session on 'deadline')
    if (reason === 'expired') logger.warn(error.message);
    else logger.error(error.message);
    this.emit({ type: 'lost', error });
    // Free the key at once if the server still has it as ours (owner-checked, so harmless otherwise).
    if (reason !== 'refused') this.init.remote.release().catch(() => undefined);
  }

  /**
   * Sets the lease to `ttl` from now, longer or shorter. Renewals sent from now on carry the new TTL;
   * the deadline becomes exactly sentAt + ttl - margin (a shorter TTL must shorten it too).
   */
  async extend(ttl: number = this.currentTtl): Promise<void> {
    assertTtl(ttl, 'ttl', 'extend()');
    if (!this.held) throw this.lostError('extend() was called after the lock was released or lost');
    const sentAt = monotonicNow();
    this.currentTtl = ttl;
    this.extendSentAt = sentAt;
    const ours = await this.init.remote.extend(ttl);
    if (!ours) {
      this.lose('refused', 'extend() was refused by the server');
      throw this.signal.reason as Error;
    }
    if (this.state !== 'held') throw this.lostError('the lock was lost while extend() was in flight');
    this.lastSentAt = sentAt;
    this.deadline = sentAt + ttl - leaseSafetyMargin(ttl);
    clearTimeout(this.deadlineTimer);
    this.armDeadline();
    this.init.onExtended?.(this);
    this.emit({ type: 'extended', ttl });
  }

  async release(): Promise<void> {
    if (this.state !== 'held') return;
    this.state = 'released';
    this.settle();
    this.controller.abort(new LockReleasedError(this.key, this.init.section));
    try {
      await this.init.remote.release();
    } catch (error) {
      // Keep-alive has stopped, so the server frees the key when its lease runs out.
      logger.warn(`Release of lock "${this.key}" did not reach the server; it expires within ${this.currentTtl} ms: ${String(error)}`);
    }
    this.emit({ type: 'released' });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  private lostError(detail: string): LockLostError {
    const reason = this.signal.reason;
    if (reason instanceof LockLostError) return reason;
    return new LockLostError({ key: this.key, section: this.init.section, reason: 'refused', detail });
  }

  private settle(): void {
    clearTimeout(this.deadlineTimer);
    this.init.onSettled(this);
  }

  /**
   * Fires at the deadline; if a renewal moved it meanwhile, sleeps again until the new one.
   * Not unref'd: a held lock keeps the process alive, so its loss is always reported.
   */
  private armDeadline(): void {
    const delay = Math.max(0, this.deadline - monotonicNow());
    this.deadlineTimer = setTimeout(() => {
      if (this.state !== 'held') return;
      if (monotonicNow() < this.deadline) return this.armDeadline();
      if (this.keepAlive) this.lose('deadline', `no renewal confirmed within ${this.currentTtl} ms`);
      else this.lose('expired', `its ${this.currentTtl} ms TTL ran out`);
    }, delay);
  }

  private emit(event: LockEventBody): void {
    const base = { driverInstanceId: this.init.driverInstanceId, key: this.key, fencingToken: this.fencingToken };
    try {
      this.init.events({ ...base, ...event });
    } catch (error) {
      logger.error(`A lock event listener threw for "${this.key}": ${String(error)}`);
    }
  }
}
