import { className } from '../utils/class-name';
import { LockerConfigError } from '../errors';
import type { LockKey, WithLockOptions } from '../interfaces/with-lock-options.interface';
import { WITH_LOCK_METADATA } from '../locker.constants';
import { LockerHost } from '../locker-host';
import { checkWithLockOptions, runLocked } from '../lock/run-locked';
import { copyMethodMetadata, keepFunctionIdentity } from '../utils/copy-method-metadata';
import { compileLockKey } from '../utils/lock-key';
import { assertLockKey } from '../utils/lock-options';

/**
 * Runs the method under a lock: `@WithLock('report')`, `@WithLock('order:{0.id}')` (a template over the
 * arguments: `{N}` is argument N, `{N.a.b}` a property path into it), or `@WithLock((order) => ...)`.
 * Works on any class (providers, controllers, plain classes) and keeps the method's other decorators,
 * in either order. A provider's or controller's method locks through its own app's LockerService. Inside the method, `LockContext.current()` is the lock.
 */
export function WithLock(key: LockKey, options: WithLockOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const where = `@WithLock on ${className(target)}.${String(propertyKey)}`;
    const original: unknown = descriptor.value;
    if (typeof original !== 'function') {
      throw new LockerConfigError({ section: where, message: 'expected a method; @WithLock decorates methods only' });
    }
    const keyOf = compileLockKey(key, where);
    const checked = checkWithLockOptions(options, where); // here, once: not again on every call

    // async, so that "not ready" and key errors reject like any failure of the method would
    const wrapper = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const service = LockerHost.service(this, where);
      const lockKey = keyOf(args);
      assertLockKey(lockKey, where);
      return runLocked(service, lockKey, checked, async () => original.apply(this, args) as unknown);
    };
    keepFunctionIdentity(original, wrapper);
    copyMethodMetadata(original, wrapper);
    Reflect.defineMetadata(WITH_LOCK_METADATA, true, wrapper); // so the app that makes the instance claims it
    descriptor.value = wrapper as typeof descriptor.value;
    return descriptor;
  };
}
