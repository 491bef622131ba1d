import type { LockKind } from '../acquisition/lock-kind';
import type { LockLostError } from '../errors';

interface LockEventBase {
  /** The driver instance (connection section) that holds the lock. */
  driverInstanceId: string;
  key: string;
  /** The lock's kind: `lock`, `permit`, `read`, `write` or `leader`. */
  kind: LockKind;
  fencingToken: bigint;
}

/** What `LockerService.events` emits. */
export type LockEvent =
  | (LockEventBase & { type: 'acquired' })
  | (LockEventBase & { type: 'released' })
  | (LockEventBase & { type: 'extended'; ttl: number })
  | (LockEventBase & { type: 'lost'; error: LockLostError })
  | (LockEventBase & { type: 'renewal-failed'; error: unknown });

/** Where a lock sends its events; `lock` is the lock itself (its `section` says which locker section took it). */
export type LockEventSink = (event: LockEvent, lock?: LockEventSource) => void;

/** The lock an event comes from, as observers (metrics, diagnostics_channel) see it. */
export interface LockEventSource {
  readonly section: string;
  readonly kind: LockKind;
}
