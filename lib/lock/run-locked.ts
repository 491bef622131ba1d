import { LockContext } from '../context/lock-context';
import { LockBusyError, LockerConfigError, LockWaitTimeoutError } from '../errors';
import type { Lock } from '../interfaces/lock.interface';
import type { WithLockOptions } from '../interfaces/with-lock-options.interface';
import type { LockerService } from '../locker.service';
import { assertDuration, assertOptionsObject, normalizeLockOptions, NormalizedLockOptions } from '../utils/lock-options';
import { describe } from '../utils/describe';
import { monotonicNow } from '../utils/clock';

const ON_BUSY = ['wait', 'skip', 'throw'];

/** `withLock`/`@WithLock` options, checked once (per call, or where the decorator is declared). */
export interface CheckedWithLockOptions {
  onBusy: 'wait' | 'skip' | 'throw';
  minHold: number;
  lock: NormalizedLockOptions;
}

/** Checks `withLock`/`@WithLock` options, naming `where` in errors, and merges defaults. */
export function checkWithLockOptions(options: WithLockOptions | undefined, where: string): CheckedWithLockOptions {
  assertOptionsObject(options, where);
  const { onBusy = 'wait', minHold = 0, ...lockOptions } = options ?? {};
  if (!ON_BUSY.includes(onBusy)) {
    throw new LockerConfigError({
      section: where,
      field: 'onBusy',
      message: `expected 'wait', 'skip' or 'throw', got ${describe(onBusy)}`,
    });
  }
  assertDuration(minHold, 'minHold', where);
  return { onBusy, minHold, lock: normalizeLockOptions(lockOptions, where) };
}

/**
 * Runs `body` under the lock with `@WithLock` semantics. Re-entrant: when this async call chain already
 * holds the server lock `key` names (through this locker section or another one on the same connection
 * and key prefix), `body` runs inside that lock instead of waiting for itself.
 */
export async function runLocked<T>(
  service: LockerService,
  key: string,
  options: CheckedWithLockOptions,
  body: (lock: Lock) => Promise<T>,
): Promise<T | undefined> {
  const { onBusy, minHold, lock: lockOptions } = options;
  const ref = service.serverLockOf(key, lockOptions.locker);
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

async function take(service: LockerService, key: string, onBusy: string, options: NormalizedLockOptions): Promise<Lock | null> {
  if (onBusy === 'wait') return service.takeChecked(key, options, true);
  try {
    const lock = await service.takeChecked(key, options, !!options.waitTime);
    if (lock || onBusy === 'skip') return lock;
  } catch (error) {
    if (!(error instanceof LockWaitTimeoutError)) throw error;
    if (onBusy === 'skip') return null;
  }
  throw new LockBusyError(key, options.locker);
}
