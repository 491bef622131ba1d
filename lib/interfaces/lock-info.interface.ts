import type { LockKind } from '../acquisition/lock-kind';

/** Who holds a lock: recorded by the process that took it, read back by any other. */
export interface LockHolder {
  /** The id of the driver instance that took it (random per process and connection section). */
  id: string;
  /** The host name of that process. */
  host: string;
  /** Its process id. */
  pid: number;
}

/** One holder of a key as the server has it (a key may have several: permits, readers). */
export interface LockHolding {
  kind: LockKind;
  fencingToken: bigint;
  /** What is left of this holder's lease on the server, in ms. */
  ttlLeftMs: number;
  holder: LockHolder;
}

/**
 * A held lock as the server sees it (`LockerService.inspect`, `nest-locker locks`): its kind, and the
 * fields of its newest holder; `holders` lists every holder where there can be several.
 */
export interface LockInfo extends LockHolding {
  key: string;
  /** How many wait for it, where the driver knows (etcd: every waiter; redis: one per waiting process, its first waiter). */
  waiting?: number;
  /** Permits and read locks: every holder, oldest first (the newest is also the fields above). */
  holders?: LockHolding[];
  /** A leader's proclaimed value. */
  value?: string;
}

/** `LockerService.health()`: bounded in time, even when a server does not answer. */
export interface LockerHealth {
  /** 'down' when any driver instance is down. */
  status: 'up' | 'down';
  drivers: Record<string, DriverHealth>;
}

/** One driver instance (connection section) in `LockerHealth`. */
export interface DriverHealth {
  status: 'up' | 'down';
  driver: string;
  /** Round trip of one request to the server, when it answered. */
  latencyMs?: number;
  /** Locks this process holds on it now. */
  heldLocks: number;
  /** Why it is down. */
  error?: string;
}
