import { LockerError } from './locker.error';

/** The locker is shutting down (application shutdown) and takes no new locks. */
export class LockerClosedError extends LockerError {
  constructor(key?: string, section?: string) {
    const what = key === undefined ? 'it takes no new locks' : `lock "${key}" was not taken`;
    super(`The locker is shutting down; ${what}.`, { key, section }, 'LOCKER_CLOSED');
  }
}
