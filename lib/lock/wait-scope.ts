import { LockWaitTimeoutError } from '../errors';
import type { AcquireRequest } from '../interfaces/locker-driver.interface';
import { monotonicNow } from '../utils/clock';
import { PendingAcquisition } from './pending-acquisition';

/** setTimeout's ceiling; a longer sleep wakes early and the caller simply re-checks. */
const MAX_TIMER_MS = 2_147_483_647;

/** Arms a wake-up source; returns a function that disarms it. */
export type WakeSource = (wake: () => void) => () => void;

/**
 * The deadline and cancellation of one acquisition. Waiting is a deadline, not a retry count:
 * `sleep` rejects with `LockWaitTimeoutError` the moment `waitTime` has elapsed, and with
 * `signal.reason` the moment the caller aborts.
 */
export class WaitScope {
  readonly startedAt = monotonicNow();
  private readonly deadline: number;

  constructor(private readonly request: AcquireRequest) {
    this.deadline = request.waitTime === undefined ? Infinity : this.startedAt + request.waitTime;
  }

  remaining(): number {
    return this.deadline - monotonicNow();
  }

  /** Throws if the caller aborted or the deadline has passed. */
  check(): void {
    const request = this.request;
    // the service's request answers without making its signal, which only a wait that blocks needs
    if (request instanceof PendingAcquisition) {
      if (request.aborted) throw request.reason;
    } else request.signal?.throwIfAborted();
    if (this.remaining() <= 0) throw this.timeoutError();
  }

  timeoutError(): LockWaitTimeoutError {
    const { key, section, waitTime = 0 } = this.request;
    return new LockWaitTimeoutError({ key, section, waitTime, waitedMs: Math.round(monotonicNow() - this.startedAt) });
  }

  /** Resolves after `ms`, or earlier when `wakeSource` wakes it; rejects at the deadline or on abort. */
  sleep(ms: number, wakeSource?: WakeSource): Promise<void> {
    this.check();
    return new Promise<void>((resolve, reject) => {
      const signal = this.request.signal;
      let settled = false;
      let disarm: (() => void) | undefined;
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        disarm?.();
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = (): void => finish(signal?.reason);
      const remaining = this.remaining();
      const timer = setTimeout(
        () => finish(this.remaining() <= 0 ? this.timeoutError() : undefined),
        Math.max(0, Math.min(ms, remaining, MAX_TIMER_MS)),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      disarm = wakeSource?.(() => finish());
      if (settled) disarm?.();
    });
  }
}
