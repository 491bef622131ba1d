import { LockerError } from './locker.error';

/** The locker is shutting down (application shutdown) and takes no new locks. */
export class LockerClosedError extends LockerError {
  constructor(key?: string, section?: string) {
    super(`The locker is shutting down; lock "${key ?? ''}" was not taken.`, { key, section }, 'LOCKER_CLOSED');
  }
}
