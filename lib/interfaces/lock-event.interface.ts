import type { LockLostError } from '../errors';

interface LockEventBase {
  /** The driver instance (connection section) that holds the lock. */
  driverInstanceId: string;
  key: string;
  fencingToken: bigint;
}

/** What `LockerService.events` emits. */
export type LockEvent =
  | (LockEventBase & { type: 'acquired' })
  | (LockEventBase & { type: 'released' })
  | (LockEventBase & { type: 'extended'; ttl: number })
  | (LockEventBase & { type: 'lost'; error: LockLostError })
  | (LockEventBase & { type: 'renewal-failed'; error: unknown });

export type LockEventSink = (event: LockEvent) => void;
