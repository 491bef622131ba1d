import { LockContext } from '../context/lock-context';
import { LockBusyError, LockerConfigError, LockWaitTimeoutError } from '../errors';
import type { Lock } from '../interfaces/lock.interface';
import type { WithLockOptions } from '../interfaces/with-lock-options.interface';
import type { LockerService } from '../locker.service';
import { assertDuration, assertOptionsObject, describe, LOCK_DEFAULTS } from '../utils/lock-options';
import { monotonicNow } from '../utils/clock';

const ON_BUSY = ['wait', 'skip', 'throw'];

/** Checks the options only `withLock`/`@WithLock` have; the lock options are checked by the service. */
export function assertWithLockOptions(options: WithLockOptions | undefined, where: string): void {
  assertOptionsObject(options, where);
  if (options?.onBusy !== undefined && !ON_BUSY.includes(options.onBusy)) {
    throw new LockerConfigError({
      section: where,
      field: 'onBusy',
      message: `expected 'wait', 'skip' or 'throw', got ${describe(options.onBusy)}`,
    });
  }
  if (options?.minHold !== undefined) assertDuration(options.minHold, 'minHold', where);
}

/**
 * Runs `body` under the lock with `@WithLock` semantics. Re-entrant: when this async call chain already
 * holds `key` on the same locker section, `body` runs inside that lock instead of waiting for itself.
 */
export async function runLocked<T>(
  service: LockerService,
  key: string,
  options: WithLockOptions | undefined,
  body: (lock: Lock) => Promise<T>,
): Promise<T | undefined> {
  const { onBusy = 'wait', minHold = 0, ...lockOptions } = options ?? {};
  const section = lockOptions.locker ?? LOCK_DEFAULTS.locker;
  const outer = LockContext.find(section, key);
  if (outer) return body(outer);

  const lock = await take(service, key, onBusy, lockOptions);
  if (!lock) return undefined;
  const acquiredAt = monotonicNow();
  try {
    return await service.track(() => LockContext.run(lock, section, () => body(lock)));
  } finally {
    const keepFor = minHold - (monotonicNow() - acquiredAt);
    if (keepFor > 0 && lock.held) setTimeout(() => void lock.release(), keepFor);
    else await lock.release();
  }
}

async function take(service: LockerService, key: string, onBusy: string, options: WithLockOptions): Promise<Lock | null> {
  if (onBusy === 'wait') return service.acquire(key, options);
  try {
    const lock = options.waitTime ? await service.acquire(key, options) : await service.tryAcquire(key, options);
    if (lock || onBusy === 'skip') return lock;
  } catch (error) {
    if (!(error instanceof LockWaitTimeoutError)) throw error;
    if (onBusy === 'skip') return null;
  }
  throw new LockBusyError(key, options.locker ?? LOCK_DEFAULTS.locker);
}
