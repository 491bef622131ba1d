import type { LockerCallOptions } from './lock-options.interface';

/** What a locked call does when another holder has the lock. */
export type OnBusy = 'wait' | 'skip' | 'throw';

/** Options of `@WithLock` and of `LockerService.withLock`. */
export interface WithLockOptions extends LockerCallOptions {
  /**
   * `wait`: wait for the lock (bounded by `waitTime` when set); `skip`: do not run the method and resolve
   * `undefined`; `throw`: do not run it and reject with `LockBusyError`. With `skip`/`throw`, `waitTime`
   * (default 0) is how long to try before giving up.
   * @default 'wait'
   */
  onBusy?: OnBusy;
  /**
   * Keep the lock at least this many ms after it was taken, even when the method ends sooner (ShedLock's
   * lockAtLeastFor): a `@Cron` tick on a node whose clock is a little late then finds the lock still taken
   * and skips. The caller gets its result at once; the lock is released in the background.
   * @default 0
   */
  minHold?: number;
}

/** The key of a locked method: a fixed string, a template over the arguments (`'order:{0.id}'`), or a function of them. */
export type LockKey = string | ((...args: any[]) => string);
