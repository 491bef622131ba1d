import { className } from '../utils/class-name';
import { LockerConfigError } from '../errors';
import type { LockKey, WithLockOptions } from '../interfaces/with-lock-options.interface';
import { WITH_LOCK_METADATA } from '../locker.constants';
import { LockerHost } from '../locker-host';
import { checkWithLockOptions } from '../acquisition/locked-runs';
import type { LockSpec } from '../acquisition/lock-kind';
import { copyMethodMetadata, keepFunctionIdentity } from '../utils/copy-method-metadata';
import { compileLockKey } from '../utils/lock-key';
import { assertLockKey } from '../utils/lock-options';

/**
 * The one factory behind `@WithLock`, `@WithPermit`, `@WithReadLock` and `@WithWriteLock`: the method runs
 * under the lock `specOf` says (checked at class definition, naming `where`, as the options are), with
 * `withLock` semantics. The wrapper keeps the method's name, length and metadata.
 */
export function lockingDecorator(
  name: string,
  key: LockKey,
  options: WithLockOptions | undefined,
  specOf: (where: string) => LockSpec,
): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const where = `${name} on ${className(target)}.${String(propertyKey)}`;
    const original: unknown = descriptor.value;
    if (typeof original !== 'function') {
      throw new LockerConfigError({ section: where, message: `expected a method; ${name} decorates methods only` });
    }
    const keyOf = compileLockKey(key, where);
    // here, once: not again on every call
    const checked = checkWithLockOptions(options, where);
    const spec = specOf(where);

    // async, so that "not ready" and key errors reject like any failure of the method would
    const wrapper = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const runs = LockerHost.runs(this, where);
      const lockKey = keyOf(args);
      assertLockKey(lockKey, where);
      return runs.run(lockKey, spec, checked, async () => original.apply(this, args) as unknown);
    };
    keepFunctionIdentity(original, wrapper);
    copyMethodMetadata(original, wrapper);
    Reflect.defineMetadata(WITH_LOCK_METADATA, true, wrapper); // so the app that makes the instance claims it
    descriptor.value = wrapper as typeof descriptor.value;
    return descriptor;
  };
}
