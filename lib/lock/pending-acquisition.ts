import type { LockKind, LockSpec } from '../acquisition/lock-kind';
import type { AcquireRequest } from '../interfaces/locker-driver.interface';
import type { LockerUnavailableError } from '../errors';
import { monotonicNow } from '../utils/clock';
import type { NormalizedLockOptions } from '../utils/lock-options';

/** At its deadline, a wait whose last ask got no answer for this long (or half its waitTime) met a silent server. */
const UNANSWERED_MS = 1_000;

/**
 * One acquisition on its way, as the driver sees it, which shutdown can abort. Its AbortSignal is made on
 * first read, by a wait that blocks (or at once when the caller passed a signal of their own): an
 * AbortController costs about 700 bytes and a microsecond, and most acquisitions never wait. It is never a
 * listener on one shared shutdown signal, which would make Node warn of a leak past ten in flight.
 */
export class PendingAcquisition implements AcquireRequest {
  private controller?: AbortController;
  private madeSignal?: AbortSignal;
  private shutdownReason?: { reason: unknown };
  /** Gives the caller its answer when shutdown aborts: set by whoever waits on the driver. */
  onAbort?: (reason: unknown) => void;
  /** Settles once the driver's call has and a lock granted too late was given back: shutdown waits for it. */
  done?: Promise<void>;
  /** The driver's last call failed without an answer, and the server has said nothing since. */
  unanswered?: LockerUnavailableError;
  /** Monotonic send time of the driver's latest request to the server that is not answered yet. */
  private askedAt?: number;
  /** Monotonic time the wait's deadline passes; Infinity without a waitTime. */
  private readonly deadline: number;

  constructor(
    readonly key: string,
    readonly section: string,
    readonly keyPrefix: string,
    private readonly spec: LockSpec,
    private readonly options: NormalizedLockOptions,
    readonly wait: boolean,
    /** The wait's length from now, ms (already less what an earlier try of the same call waited). */
    private readonly initialWaitTime: number | undefined,
  ) {
    this.deadline = initialWaitTime === undefined ? Infinity : monotonicNow() + initialWaitTime;
  }

  /** What is left of the wait, read by each call to the driver: a call after an outage gets only the rest. */
  get waitTime(): number | undefined {
    if (this.initialWaitTime === undefined) return undefined;
    return Math.max(0, Math.ceil(this.deadline - monotonicNow()));
  }

  /** The driver sends a request to the server for this acquisition. */
  asking(): void {
    this.askedAt ??= monotonicNow();
  }

  /** The server answered (the lock is busy, or whatever it said): the wait is not one on a silent server. */
  answered(): void {
    this.askedAt = undefined;
    this.unanswered = undefined;
  }

  /**
   * At the deadline: whether the wait ended on a server that did not answer (its last call failed that way,
   * or an ask is still unanswered after a while) rather than on a lock that stayed busy.
   */
  get endedUnanswered(): boolean {
    if (this.unanswered) return true;
    if (this.askedAt === undefined) return false;
    return monotonicNow() - this.askedAt >= Math.min(UNANSWERED_MS, (this.initialWaitTime ?? Infinity) / 2);
  }

  get kind(): LockKind {
    return this.spec.kind;
  }

  get limit(): number | undefined {
    return this.spec.limit;
  }

  get ttl(): number {
    return this.options.ttl;
  }

  get keepAlive(): boolean {
    return this.options.keepAlive;
  }

  get fair(): boolean {
    return this.options.fair;
  }

  /** Aborted by the caller's signal or by shutdown; made on first read. */
  get signal(): AbortSignal {
    if (!this.madeSignal) {
      this.controller = new AbortController();
      if (this.shutdownReason) this.controller.abort(this.shutdownReason.reason);
      const callerSignal = this.options.signal;
      // a fresh signal per acquisition even for a caller's shared one: listeners go on it, not on theirs
      this.madeSignal = callerSignal ? AbortSignal.any([callerSignal, this.controller.signal]) : this.controller.signal;
    }
    return this.madeSignal;
  }

  /** Whether the caller or shutdown aborted it, without making the signal. */
  get aborted(): boolean {
    return this.madeSignal ? this.madeSignal.aborted : this.shutdownReason !== undefined || this.options.signal?.aborted === true;
  }

  /** Why it was aborted (undefined while not). */
  get reason(): unknown {
    if (this.madeSignal) return this.madeSignal.reason;
    return this.options.signal?.aborted ? this.options.signal.reason : this.shutdownReason?.reason;
  }

  /** Shutdown: stops a wait underway and answers the caller with `reason`. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.shutdownReason = { reason };
    this.controller?.abort(reason);
    this.onAbort?.(reason);
  }
}
