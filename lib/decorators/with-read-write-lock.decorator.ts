import type { LockKey, WithLockOptions } from '../interfaces/with-lock-options.interface';
import { READ, WRITE } from '../acquisition/lock-kind';
import { lockingDecorator } from './locking-decorator';

/** Runs the method under a read lock of the key: beside other readers, never beside a writer. As `@WithLock`. */
export function WithReadLock(key: LockKey, options?: WithLockOptions): MethodDecorator {
  return lockingDecorator('@WithReadLock', key, options, () => READ);
}

/** Runs the method under the write lock of the key: alone, against readers and writers. As `@WithLock`. */
export function WithWriteLock(key: LockKey, options?: WithLockOptions): MethodDecorator {
  return lockingDecorator('@WithWriteLock', key, options, () => WRITE);
}
