import { LockerError } from './locker.error';

/** The abort reason of `lock.signal` after the holder released the lock itself. */
export class LockReleasedError extends LockerError {
  constructor(key: string, section?: string) {
    super(`Lock "${key}" was released by its holder.`, { key, section }, 'LOCK_RELEASED');
  }
}
