import type { LockerCallOptions } from './lock-options.interface';
import type { WithLockOptions } from './with-lock-options.interface';

/** Options of `acquirePermit` / `tryAcquirePermit`: a lock's options, the locker section, and the limit. */
export interface PermitOptions extends LockerCallOptions {
  /**
   * At most this many holders of the key at once, across all processes (a whole number from 1). A caller
   * is granted a permit when fewer than its own `limit` are held, so a rolling deploy may change it.
   */
  limit: number;
}

/** Options of `withPermit` and `@WithPermit`: `withLock`'s (`onBusy`, `minHold`, ...) and the limit. */
export interface WithPermitOptions extends WithLockOptions {
  /** See `PermitOptions.limit`. */
  limit: number;
}
