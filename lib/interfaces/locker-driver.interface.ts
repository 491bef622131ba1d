import type { LockKind, LockNamespace } from '../acquisition/lock-kind';
import type { LeaderInfo } from './election.interface';
import type { Lock } from './lock.interface';
import type { LockEventSink } from './lock-event.interface';
import type { LockHolder, LockInfo } from './lock-info.interface';

/** One acquisition, with options already validated and defaults merged. */
export interface AcquireRequest {
  key: string;
  /** The locker section asking; named in errors. */
  section: string;
  /** The section's `key_prefix`. */
  keyPrefix: string;
  /** What kind of lock: each kind's keys live apart (see `namespaceOf`); a driver refuses kinds it lacks. */
  kind: LockKind;
  /** Permits: at most this many holders of the key, as this caller counts them. */
  limit?: number;
  ttl: number;
  keepAlive: boolean;
  fair: boolean;
  /** `false`: one attempt, resolve `null` when busy (tryAcquire). */
  wait: boolean;
  /** What is left of the wait, ms, read when the driver starts (a try after an outage has only the rest). */
  waitTime?: number;
  signal?: AbortSignal;
  /**
   * Tell the acquisition before each request to the server and when it answers: at the deadline, a wait
   * whose last request got no answer ends with `LockerUnavailableError`, one whose lock stayed busy with
   * `LockWaitTimeoutError`. Optional: a driver that never calls them times out as busy.
   */
  asking?(): void;
  answered?(): void;
}

/**
 * A backend, one instance per connection section. Third-party drivers implement this and register a
 * `LockerDriverFactory`; `AbstractLockerDriver` and `HeldLock` give them keep-alive, deadlines and events.
 */
export interface LockerDriver {
  /** The registered driver name: `redis`, `etcd`, `memory`, ... */
  readonly type: string;
  /** The connection section it was created from (`driver_instance_id`). */
  readonly instanceId: string;
  /** The kinds of lock it can take. Absent: `['lock']` only; other kinds are refused at the call. */
  readonly kinds?: readonly LockKind[];
  /** Resolves with a held lock; `null` only when `request.wait` is false and the key is busy. */
  acquire(request: AcquireRequest): Promise<Lock | null>;
  /** The locks this instance holds now. */
  heldLocks(): Lock[];
  /** Stops background work and closes the connections the driver opened. Held locks are not released. */
  close(): Promise<void>;
  /** Who this instance records as the holder of its locks. */
  readonly holder?: LockHolder;
  /** One round trip to the server; rejects if it does not answer within `timeoutMs`. Absent: always up. */
  ping?(timeoutMs: number): Promise<void>;
  /** The lock on `key` in `namespace` (default `lock`) as the server has it, or null when free. */
  inspect?(keyPrefix: string, key: string, namespace?: LockNamespace): Promise<LockInfo | null>;
  /**
   * Removes whoever holds `key` in `namespace` (default `lock`; every holder of a permit or read lock): an
   * operator's unlock; true if a lock was removed. The fencing counter stays.
   */
  forceRelease?(keyPrefix: string, key: string, namespace?: LockNamespace): Promise<boolean>;
  /** Every lock held under `keyPrefix` (whoever holds it), of every kind, ordered by key. */
  list?(keyPrefix: string): Promise<LockInfo[]>;
  /**
   * Bootstrap, once per key prefix that a locker section uses this instance with: checks that the server
   * lets it do what locks under `keyPrefix` need (e.g. one lock through every step), leaving nothing behind.
   * Rejects with a `LockerConfigError` naming what was refused and how to grant it, and bootstrap fails; a
   * refusal that only degrades, or a check that got no answer, is a warning. Settles within the section's
   * `command_timeout`. Absent: nothing to check.
   */
  probe?(keyPrefix: string): Promise<void>;
  /**
   * Elections (a driver that lists `leader` in `kinds` implements the three; see docs/extending.md). Records
   * `value` (undefined: none) as what the holder of the leadership `lock` proclaims, owner-checked on the
   * server, and tells the election's observers. Resolves false when the lock is no longer held there.
   */
  proclaim?(lock: Lock, value: string | undefined): Promise<boolean>;
  /** The leader of election `name` (its `leader` lock's holder, once it proclaimed), or null when there is none. */
  leader?(keyPrefix: string, name: string): Promise<LeaderInfo | null>;
  /**
   * Calls `look` with the leader, as `leader()` reads it, once the watch is set up and again whenever it may
   * have changed: each change the server announces, the leader's lease end, and after a reconnect or a lost
   * watch (whatever happened meanwhile is read then). Never by polling. Until `close()`.
   */
  watchLeader?(keyPrefix: string, name: string, look: (leader: LeaderInfo | null) => void): LeaderWatch;
}

/** An election's watch (`LockerDriver.watchLeader`). */
export interface LeaderWatch {
  close(): void;
}

/** What a driver asks of its server for operators (`AbstractLockerDriver` forwards the LockerDriver methods to it). */
export type LockInspection = Required<Pick<LockerDriver, 'ping' | 'inspect' | 'forceRelease' | 'list'>>;

export interface DriverContext {
  instanceId: string;
  events: LockEventSink;
}

/** How a driver is registered: parses its connection section and creates connected instances. */
export interface LockerDriverFactory<C = unknown> {
  readonly name: string;
  /** Used when the locker section sets no `key_prefix`. */
  readonly defaultKeyPrefix: string;
  /**
   * Validates the connection section (undefined when the config has none) and returns typed settings.
   * Throws `LockerConfigError` naming the section and field.
   */
  parseConnection(section: string, raw: Record<string, unknown> | undefined): C;
  /** Creates and connects; a server that cannot be reached fails here, with its address in the error. */
  create(config: C, context: DriverContext): Promise<LockerDriver>;
}
