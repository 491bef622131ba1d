import type { LockKind, LockNamespace } from '../../acquisition/lock-kind';
import type { LockHolder, LockHolding, LockInfo } from '../../interfaces/lock-info.interface';
import { monotonicNow } from '../../utils/clock';

/** One entry of a key's queue: a holder (granted) or a waiter, in arrival order. */
export interface Entry {
  readonly owner: string;
  readonly kind: LockKind;
  readonly limit?: number;
  granted?: { fencingToken: bigint; expiresAt: number; timer: NodeJS.Timeout };
  /** Wakes the waiting call when it is granted. */
  wake?: () => void;
  /** A leader's proclamation (its value may be undefined). */
  proclaimed?: { value?: string };
}

/** A queue's name: the namespace, then the key with its prefix. */
export const queueId = (namespace: LockNamespace, name: string): string => `${namespace} ${name}`;

export function splitQueueId(id: string): [LockNamespace, string] {
  const space = id.indexOf(' ');
  return [id.slice(0, space) as LockNamespace, id.slice(space + 1)];
}

const ttlLeft = (expiresAt: number): number => Math.max(0, Math.round(expiresAt - monotonicNow()));

/** What `inspect` and `list` tell of queue `id`: its kind and holders, or null when no one holds it. */
export function lockInfo(queues: ReadonlyMap<string, Entry[]>, holder: LockHolder, keyPrefix: string, id: string): LockInfo | null {
  const [namespace, name] = splitQueueId(id);
  if (!name.startsWith(keyPrefix)) return null;
  const queue = queues.get(id) ?? [];
  const holdings: LockHolding[] = queue.flatMap(({ kind, granted }) =>
    granted ? [{ kind, fencingToken: granted.fencingToken, ttlLeftMs: ttlLeft(granted.expiresAt), holder }] : [],
  );
  const newest = holdings.at(-1);
  if (!newest) return null;
  const info: LockInfo = { key: name.slice(keyPrefix.length), ...newest, waiting: queue.length - holdings.length };
  if (namespace === 'permit' || namespace === 'rw') info.holders = holdings;
  const proclaimed = queue[0].proclaimed;
  if (proclaimed?.value !== undefined) info.value = proclaimed.value;
  return info;
}
