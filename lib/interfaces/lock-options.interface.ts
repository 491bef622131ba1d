/** Options of one lock acquisition. Defaults are merged in one place: `utils/lock-options.ts`. */
export interface LockOptions {
  /**
   * Lease length in milliseconds (the seed's `WithTTL`, which took seconds).
   * With keep-alive the lease is renewed every `ttl / 3`; a dead holder's lock is freed after at most `ttl`.
   * At least 300 ms kept alive (a renewal needs room for a round trip and an event-loop stall), 100 ms with
   * `keepAlive: false`: shorter values are refused as Go-style seconds (`ttl: 120` meant two minutes).
   * @default 60_000
   */
  ttl?: number;
  /**
   * Renew the lease automatically while the holder lives. `false` gives a lock that expires after `ttl`
   * (the seed's `WithDisableKeepAlive`).
   * @default true
   */
  keepAlive?: boolean;
  /**
   * Give up after this many milliseconds with a `LockWaitTimeoutError` (the seed's `WithWaitTime`).
   * Absent: wait until acquired. `0`: one attempt.
   * @default undefined
   */
  waitTime?: number;
  /** Cancels waiting; the promise rejects with `signal.reason` and nothing stays held or queued. */
  signal?: AbortSignal;
  /**
   * Accepted for compatibility: every driver now hands the lock to waiters in arrival order (redis: a
   * release grants it to the first waiter in the server's queue).
   * @default false
   */
  fair?: boolean;
}

/** `LockerService` options: a lock's options plus the locker section to use. */
export interface LockerCallOptions extends LockOptions {
  /**
   * The locker section of the config (e.g. `locker`, `payments_locker`).
   * @default 'locker'
   */
  locker?: string;
}
