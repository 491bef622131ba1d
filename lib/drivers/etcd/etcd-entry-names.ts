import { randomBytes } from 'node:crypto';
import { isExclusive, LockNamespace, mayHold, QueuedSpec } from '../../acquisition/lock-kind';

/**
 * Where one key's entries live: `<key_prefix><URI-encoded key>/` for a mutex (as ever), and
 * `<key_prefix><namespace>:<URI-encoded key>/` for the other namespaces. A key's `:` and `/` are always
 * encoded, so no namespace's entries fall under another's prefix, nor one key's under another's.
 */
export function etcdLockPrefix(keyPrefix: string, key: string, namespace: LockNamespace): string {
  const encoded = encodeURIComponent(key);
  return namespace === 'lock' ? `${keyPrefix}${encoded}/` : `${keyPrefix}${namespace}:${encoded}/`;
}

/** A lock prefix read back under `keyPrefix`: the key and its namespace; undefined for a name not ours. */
export function keyOfLockPrefix(keyPrefix: string, lockPrefix: string): { key: string; namespace: LockNamespace } | undefined {
  const rest = lockPrefix.slice(keyPrefix.length, -1);
  const colon = rest.indexOf(':');
  const namespace = (colon < 0 ? 'lock' : rest.slice(0, colon)) as LockNamespace;
  if (!['lock', 'permit', 'rw', 'leader'].includes(namespace)) return undefined;
  try {
    return { key: decodeURIComponent(rest.slice(colon + 1)), namespace };
  } catch {
    return undefined;
  }
}

/**
 * An entry's own part of its name: a marker of what the queue's rule needs to know of it, then 16 random
 * hex digits. A mutex's or leader's entry has no marker (the name older versions wrote); a reader's is
 * `r-`, a writer's `w-`, a permit's `p<limit>-`: a keys-only read of the queue then tells the rule all.
 */
export function entryName(lockPrefix: string, spec: QueuedSpec): string {
  const marker = spec.kind === 'read' ? 'r-' : spec.kind === 'write' ? 'w-' : spec.kind === 'permit' ? `p${spec.limit ?? 1}-` : '';
  return lockPrefix + marker + randomBytes(8).toString('hex');
}

/** Lock entries as `entryName` writes them: the lock prefix, then the marker and 16 hex digits. */
export const ENTRY_NAME = /^(.*\/)(r-|w-|p\d+-)?[0-9a-f]{16}$/;

/** What an entry's name says of it, in the queue of `namespace`. */
export function specOfEntry(name: string, namespace: LockNamespace): QueuedSpec {
  const marker = ENTRY_NAME.exec(name)?.[2];
  if (marker === 'r-') return { kind: 'read' };
  if (marker === 'w-') return { kind: 'write' };
  if (marker?.startsWith('p')) return { kind: 'permit', limit: Number(marker.slice(1, -1)) };
  return { kind: namespace === 'leader' ? 'leader' : namespace === 'rw' ? 'write' : 'lock' };
}

/**
 * Whether an entry of `own` spec may hold behind the entries `ahead` (their names, oldest first): the
 * kinds' rule over the queue. A mutex needs none ahead, and reads nothing of their names.
 */
export function mayHoldBehind(ahead: readonly string[], own: QueuedSpec, namespace: LockNamespace): boolean {
  if (isExclusive(own.kind)) return ahead.length === 0;
  const queue = [...ahead.map((name) => specOfEntry(name, namespace)), own];
  return mayHold(queue, queue.length - 1);
}
