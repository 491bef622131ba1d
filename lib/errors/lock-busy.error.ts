import { LockerError } from './locker.error';

/** `@WithLock({ onBusy: 'throw' })`: another holder has the lock, so the method did not run. */
export class LockBusyError extends LockerError {
  constructor(key: string, section?: string) {
    super(`Lock "${key}" is held by someone else; the method did not run (onBusy: 'throw').`, { key, section }, 'LOCK_BUSY');
  }
}
