import type { LockKind } from '../acquisition/lock-kind';

/** One held lock, of any kind (a mutex, a permit, a read or write lock, a leadership). */
export interface Lock {
  /** The key as the caller gave it. */
  readonly key: string;
  /** What was taken: `lock` (`acquire`), `permit`, `read`, `write` or `leader`. */
  readonly kind: LockKind;
  /** Strictly increasing per key, across releases, expiries and server restarts. Pass it to fenced resources. */
  readonly fencingToken: bigint;
  /** Aborted with a `LockLostError` when the lock is lost, and with a `LockReleasedError` on release. */
  readonly signal: AbortSignal;
  /**
   * True while released is not called, no loss was seen and the local lease deadline has not passed.
   * Checked against the clock at every read, so a holder that was paused sees `false` at once.
   */
  readonly held: boolean;
  /** Renew now, optionally with a new TTL (ms). Rejects with `LockLostError` when the lock is no longer ours. */
  extend(ttl?: number): Promise<void>;
  /** Release; idempotent; never deletes another holder's lock. */
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
