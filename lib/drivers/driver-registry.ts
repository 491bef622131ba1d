import { LockerConfigError } from '../errors';
import type { LockerDriverFactory } from '../interfaces/locker-driver.interface';
import { etcdDriverFactory } from './etcd/etcd-driver.factory';
import { memoryDriverFactory } from './memory/memory-driver.factory';
import { redisDriverFactory } from './redis/redis-driver.factory';

const factories = new Map<string, LockerDriverFactory>();

/**
 * Makes a driver available to `driver = "<name>"` in locker sections (the seed's RegisterLocker).
 * Register before `LockerModule` bootstraps; registering a name twice replaces the earlier factory.
 */
export function registerLockerDriver<C>(factory: LockerDriverFactory<C>): void {
  if (typeof factory?.name !== 'string' || !/^[a-z][a-z0-9_-]*$/i.test(factory.name)) {
    throw new LockerConfigError({
      section: 'registerLockerDriver',
      field: 'name',
      message: 'expected a name of letters, digits, "_" or "-"',
    });
  }
  factories.set(factory.name, factory);
}

export function getLockerDriverFactory(name: string): LockerDriverFactory | undefined {
  return factories.get(name);
}

export function registeredLockerDrivers(): string[] {
  return [...factories.keys()];
}

registerLockerDriver(memoryDriverFactory);
registerLockerDriver(redisDriverFactory);
registerLockerDriver(etcdDriverFactory);
