import { LockerConfigError } from '../errors';
import type { LockedIntervalOptions } from '../interfaces/locked-interval-options.interface';
import { LOCKED_INTERVAL_METADATA } from '../locker.constants';
import { assertDuration, assertKnownOptions, assertLockKey, assertTtl } from '../utils/lock-options';
import { describe } from '../utils/describe';
import { className } from '../utils/class-name';

const FIELDS = ['interval', 'key', 'locker', 'ttl', 'lockRetryInterval', 'name'];

/**
 * Runs the method in a loop on one node of the cluster at a time (the seed's RunLoopWithLock): every
 * instance contends for the lock at bootstrap; the holder runs the method, waits `interval` ms, runs it
 * again; when it loses the lock or shuts down, another instance takes over.
 */
export function LockedInterval(intervalOrOptions: number | LockedIntervalOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const where = `@LockedInterval on ${className(target)}.${String(propertyKey)}`;
    if (typeof descriptor.value !== 'function' || typeof target === 'function') {
      throw new LockerConfigError({ section: where, message: 'expected an instance method of a provider' });
    }
    const options = typeof intervalOrOptions === 'number' ? { interval: intervalOrOptions } : intervalOrOptions;
    validate(options, where);
    Reflect.defineMetadata(LOCKED_INTERVAL_METADATA, options, descriptor.value);
    return descriptor;
  };
}

function validate(options: LockedIntervalOptions, where: string): void {
  if (options === null || typeof options !== 'object') {
    throw new LockerConfigError({ section: where, message: `expected an interval in ms or an options object, got ${describe(options)}` });
  }
  assertKnownOptions(options, FIELDS, where);
  for (const field of ['interval', 'lockRetryInterval'] as const) {
    if (options[field] !== undefined) assertDuration(options[field], field, where);
  }
  if (options.ttl !== undefined) assertTtl(options.ttl, 'ttl', where);
  if (options.key !== undefined) assertLockKey(options.key, where);
  for (const field of ['locker', 'name'] as const) {
    const value = options[field];
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new LockerConfigError({ section: where, field, message: `expected a non-empty string, got ${describe(value)}` });
    }
  }
}
