import { LockerConfigError } from '../errors';
import { describe } from '../utils/describe';
import { assertOptionsObject } from '../utils/lock-options';

/**
 * The kinds of lock, each a rule over one FIFO queue of a key (Curator's `LockInternals`, etcd's
 * `concurrency`): an entry may hold given the entries ahead of it. Holders are always a prefix of the queue,
 * so locks are granted in queue order and fencing tokens grow in grant order.
 */
export type LockKind = 'lock' | 'permit' | 'read' | 'write' | 'leader';

/** What is asked for: a kind, and for a permit the caller's own limit. */
export interface LockSpec {
  readonly kind: LockKind;
  /** Permits only: at most this many holders, as this caller counts them. */
  readonly limit?: number;
}

/** The plain lock (`acquire`, `@WithLock`): one spec object for every call. */
export const MUTEX: LockSpec = Object.freeze({ kind: 'lock' });
export const READ: LockSpec = Object.freeze({ kind: 'read' });
export const WRITE: LockSpec = Object.freeze({ kind: 'write' });
export const LEADER: LockSpec = Object.freeze({ kind: 'leader' });

/**
 * The namespace a kind's keys live in: `acquire('k')`, `acquirePermit('k')`, `acquireRead('k')` and
 * `election('k')` never interact; a reader and a writer of one key share theirs.
 */
export type LockNamespace = 'lock' | 'permit' | 'rw' | 'leader';

export function namespaceOf(kind: LockKind): LockNamespace {
  return kind === 'read' || kind === 'write' ? 'rw' : kind;
}

/** Kinds that hold alone: nothing else holds beside them. */
export const isExclusive = (kind: LockKind): boolean => kind === 'lock' || kind === 'write' || kind === 'leader';

/** An entry of a key's queue as the rule sees it. */
export interface QueuedSpec {
  readonly kind: LockKind;
  readonly limit?: number;
}

/** Whether the entry at `index` may hold on its own terms, given only its place. */
function holdsAt(entries: readonly QueuedSpec[], index: number): boolean {
  const { kind, limit } = entries[index];
  if (isExclusive(kind)) return index === 0;
  if (kind === 'permit') return index < (limit ?? 1);
  // a reader: no writer ahead (a waiting writer holds back readers that come after it)
  for (let i = 0; i < index; i++) if (isExclusive(entries[i].kind)) return false;
  return true;
}

/**
 * Whether the entry at `index` of a key's queue (holders and waiters, oldest first) may hold: it and every
 * entry ahead of it pass their kind's rule, so a later entry never holds before an earlier one (with mixed
 * permit limits during a rolling deploy too).
 */
export function mayHold(entries: readonly QueuedSpec[], index: number): boolean {
  for (let i = 0; i <= index; i++) if (!holdsAt(entries, i)) return false;
  return true;
}

/**
 * Re-entrancy: a body that holds `held` on a key runs an inner call for `wanted` on the same key under it.
 * A writer covers readers and writers; a reader covers readers only (an inner write would wait for itself).
 */
export function covers(held: LockKind, wanted: LockKind): boolean | 'upgrade' {
  if (held === wanted) return true;
  if (held === 'write' && wanted === 'read') return true;
  if (held === 'read' && wanted === 'write') return 'upgrade';
  return false;
}

/** A permit's spec, with `limit` checked at the call (or where a decorator is declared), naming `where`. */
export function permitSpec(limit: unknown, where: string): LockSpec {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PERMIT_LIMIT) {
    throw new LockerConfigError({
      section: where,
      field: 'limit',
      message: `expected a whole number of permits from 1 to ${MAX_PERMIT_LIMIT} (at most that many holders of the key at once), got ${describe(limit)}`,
    });
  }
  return { kind: 'permit', limit };
}

/** The most permits a key may have: enough for any real limit, few enough to list and grant in one script. */
export const MAX_PERMIT_LIMIT = 10_000;

/** Splits a permit call's options into its spec (checked `limit`) and the lock's own options. */
export function splitPermitOptions<O extends { limit?: unknown }>(options: O | undefined, where: string): [LockSpec, Omit<O, 'limit'>] {
  assertOptionsObject(options, where);
  const { limit, ...lockOptions } = options ?? ({} as O);
  return [permitSpec(limit, where), lockOptions];
}
