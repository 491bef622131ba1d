import { AsyncLocalStorage } from 'node:async_hooks';
import type { LockNamespace } from '../acquisition/lock-kind';
import type { Lock } from '../interfaces/lock.interface';

/**
 * Which lock on the server a key names: the driver instance (one connection), the section's key prefix
 * with the key, and the kind's namespace. Two locker sections on one connection with one prefix name the
 * same lock; a permit and a mutex of one key do not.
 */
export interface ServerLockRef {
  driver: object;
  keyPrefix: string;
  key: string;
  namespace: LockNamespace;
}

interface HeldEntry {
  lock: Lock;
  ref: ServerLockRef;
}

const storage = new AsyncLocalStorage<readonly HeldEntry[]>();

/** The locks held by the current async call chain (`withLock`, `@WithLock`, `@LockedInterval` bodies). */
export class LockContext {
  /** The innermost lock of the current call chain, or undefined outside a locked body. */
  static current(): Lock | undefined {
    const entries = storage.getStore();
    return entries?.[entries.length - 1]?.lock;
  }

  /** @internal The lock this call chain still holds on the server lock `ref` names, whatever section took it. */
  static find(ref: ServerLockRef): Lock | undefined {
    return storage
      .getStore()
      ?.findLast(
        ({ lock, ref: held }) =>
          held.driver === ref.driver &&
          held.keyPrefix === ref.keyPrefix &&
          held.key === ref.key &&
          held.namespace === ref.namespace &&
          lock.held,
      )?.lock;
  }

  /** @internal Runs `fn` with `lock` (on the server lock `ref` names) as the innermost lock of its call chain. */
  static run<T>(lock: Lock, ref: ServerLockRef, fn: () => T): T {
    return storage.run([...(storage.getStore() ?? []), { lock, ref }], fn);
  }
}
