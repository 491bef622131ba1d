/** Options of `@LockedInterval` (the seed's RunLoopWithLock). */
export interface LockedIntervalOptions {
  /** Ms between the end of one run and the start of the next. @default 0 */
  interval?: number;
  /** The lock key. @default '<ClassName>.<methodName>' */
  key?: string;
  /** The locker section. @default 'locker' */
  locker?: string;
  /** Lease of the loop's lock, renewed while the loop holds it. @default 60_000 */
  ttl?: number;
  /** Pause after a lock error or a lost lock before contending again, ms. @default 1000 */
  lockRetryInterval?: number;
  /** The name in `LockedIntervalRegistry`. @default the key */
  name?: string;
}

/** Options after validation, with every default merged. */
export type ResolvedLockedIntervalOptions = Required<LockedIntervalOptions>;
