import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lock } from '../interfaces/lock.interface';

const storage = new AsyncLocalStorage<readonly Lock[]>();

/** The locks held by the current async call chain (`withLock`, `@WithLock`, `@LockedInterval` bodies). */
export class LockContext {
  /** The innermost lock of the current call chain, or undefined outside a locked body. */
  static current(): Lock | undefined {
    const locks = storage.getStore();
    return locks?.[locks.length - 1];
  }

  /** The lock this call chain holds for `key`, if any (innermost first). */
  static find(key: string): Lock | undefined {
    return storage.getStore()?.findLast((lock) => lock.key === key && lock.held);
  }

  /** Runs `fn` with `lock` as the innermost lock of its call chain. */
  static run<T>(lock: Lock, fn: () => T): T {
    return storage.run([...(storage.getStore() ?? []), lock], fn);
  }
}
