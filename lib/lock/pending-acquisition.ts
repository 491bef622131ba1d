import type { AcquireRequest } from '../interfaces/locker-driver.interface';

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

  constructor(
    readonly key: string,
    readonly section: string,
    readonly keyPrefix: string,
    readonly ttl: number,
    readonly keepAlive: boolean,
    readonly fair: boolean,
    readonly wait: boolean,
    readonly waitTime: number | undefined,
    private readonly callerSignal: AbortSignal | undefined,
  ) {}

  /** Aborted by the caller's signal or by shutdown; made on first read. */
  get signal(): AbortSignal {
    if (!this.madeSignal) {
      this.controller = new AbortController();
      if (this.shutdownReason) this.controller.abort(this.shutdownReason.reason);
      // a fresh signal per acquisition even for a caller's shared one: listeners go on it, not on theirs
      this.madeSignal = this.callerSignal ? AbortSignal.any([this.callerSignal, this.controller.signal]) : this.controller.signal;
    }
    return this.madeSignal;
  }

  /** Whether the caller or shutdown aborted it, without making the signal. */
  get aborted(): boolean {
    return this.madeSignal ? this.madeSignal.aborted : this.shutdownReason !== undefined || this.callerSignal?.aborted === true;
  }

  /** Why it was aborted (undefined while not). */
  get reason(): unknown {
    if (this.madeSignal) return this.madeSignal.reason;
    return this.callerSignal?.aborted ? this.callerSignal.reason : this.shutdownReason?.reason;
  }

  /** Shutdown: stops a wait underway and answers the caller with `reason`. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.shutdownReason = { reason };
    this.controller?.abort(reason);
    this.onAbort?.(reason);
  }
}
