import type { LockKey, WithLockOptions } from '../interfaces/with-lock-options.interface';
import { MUTEX } from '../acquisition/lock-kind';
import { lockingDecorator } from './locking-decorator';

/**
 * Runs the method under a lock: `@WithLock('report')`, `@WithLock('order:{0.id}')` (a template over the
 * arguments: `{N}` is argument N, `{N.a.b}` a property path into it), or `@WithLock((order) => ...)`.
 * Works on any class (providers, controllers, plain classes) and keeps the method's other decorators,
 * in either order. A provider's or controller's method locks through its own app's LockerService. Inside the method, `LockContext.current()` is the lock.
 */
export function WithLock(key: LockKey, options: WithLockOptions = {}): MethodDecorator {
  return lockingDecorator('@WithLock', key, options, () => MUTEX);
}
