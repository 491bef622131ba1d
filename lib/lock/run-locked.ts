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
 * holds the server lock `key` names (through this locker section or another one on the same connection
 * and key prefix), `body` runs inside that lock instead of waiting for itself.
 */
export async function runLocked<T>(
  service: LockerService,
  key: string,
  options: WithLockOptions | undefined,
  body: (lock: Lock) => Promise<T>,
): Promise<T | undefined> {
  const { onBusy = 'wait', minHold = 0, ...lockOptions } = options ?? {};
  const ref = service.serverLock(key, lockOptions, 'withLock()'); // @WithLock checked its options where it was declared
  const outer = LockContext.find(ref);
  if (outer) return body(outer);

  // Tracked from before the lock is granted: shutdown that begins between the grant and the body still
  // waits for the body, and does not release its lock under it.
  return service.track(async () => {
    const lock = await take(service, key, onBusy, lockOptions);
    if (!lock) return undefined;
    const acquiredAt = monotonicNow();
    try {
      return await LockContext.run(lock, ref, () => body(lock));
    } finally {
      const keepFor = minHold - (monotonicNow() - acquiredAt);
      if (keepFor > 0 && lock.held) await service.holdFor(lock, keepFor);
      else await lock.release();
    }
  });
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
