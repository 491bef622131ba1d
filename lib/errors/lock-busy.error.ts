import type { LockSpec } from '../acquisition/lock-kind';
import { LockerError } from './locker.error';

/** What holds the key, as the message says it. */
function busyWith(key: string, spec?: LockSpec): string {
  if (spec?.kind === 'permit') return `All permits of "${key}" are held (limit ${spec.limit})`;
  if (spec?.kind === 'read') return `Lock "${key}" is held by a writer, or a writer waits for it`;
  if (spec?.kind === 'write') return `Lock "${key}" is held by readers or a writer`;
  return `Lock "${key}" is held by someone else`;
}

/** `@WithLock({ onBusy: 'throw' })` (and its kin): the lock is taken, so the method did not run. */
export class LockBusyError extends LockerError {
  constructor(key: string, section?: string, spec?: LockSpec) {
    super(`${busyWith(key, spec)}; the method did not run (onBusy: 'throw').`, { key, section }, 'LOCK_BUSY');
  }
}
