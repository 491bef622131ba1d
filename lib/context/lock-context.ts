import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lock } from '../interfaces/lock.interface';

interface HeldEntry {
  lock: Lock;
  section: string;
}

const storage = new AsyncLocalStorage<readonly HeldEntry[]>();

/** The locks held by the current async call chain (`withLock`, `@WithLock`, `@LockedInterval` bodies). */
export class LockContext {
  /** The innermost lock of the current call chain, or undefined outside a locked body. */
  static current(): Lock | undefined {
    const entries = storage.getStore();
    return entries?.[entries.length - 1]?.lock;
  }

  /** The lock this call chain still holds for `key` on locker section `section`, if any. */
  static find(section: string, key: string): Lock | undefined {
    return storage.getStore()?.findLast((entry) => entry.section === section && entry.lock.key === key && entry.lock.held)?.lock;
  }

  /** Runs `fn` with `lock` as the innermost lock of its call chain. */
  static run<T>(lock: Lock, section: string, fn: () => T): T {
    return storage.run([...(storage.getStore() ?? []), { lock, section }], fn);
  }
}
