import type { Provider } from '@nestjs/common';
import { LockerConfigError } from '../errors';
import type { LockerModuleOptions } from '../interfaces/locker-config.interface';
import type { LockerConfigFactory, LockerModuleAsyncOptions } from '../interfaces/locker-module-async-options.interface';
import { LOCKER_CONFIG_FACTORY, LOCKER_RESOLVED_CONFIG } from '../locker.constants';
import { assertOptionsObject } from '../utils/lock-options';
import { describe } from '../utils/describe';
import { resolveLockerConfig } from './resolve-locker-config';

const WHERE = 'LockerModule.forRootAsync()';
const SOURCES = ['useFactory', 'useClass', 'useExisting'] as const;
/** Fields of forRootAsync's options that are not `LockerModuleOptions`. */
const ASYNC_FIELDS = new Set<string>([...SOURCES, 'inject', 'imports', 'extraProviders', 'driverInstanceIds']);

/**
 * The providers that make the resolved config from `forRootAsync` options, and the module options among them;
 * checks their shape at the call.
 */
export function asyncConfigProviders(options: LockerModuleAsyncOptions): { providers: Provider[]; moduleOptions: LockerModuleOptions } {
  assertOptionsObject(options, WHERE);
  const given = SOURCES.filter((name) => options[name] !== undefined);
  if (given.length !== 1) {
    throw new LockerConfigError({
      section: WHERE,
      field: given.length ? given.join(', ') : 'useFactory',
      message: `expected exactly one of useFactory, useClass or useExisting, got ${given.length ? given.join(' and ') : 'none'}`,
    });
  }
  const [source] = given;
  if (typeof options[source] !== 'function') {
    throw new LockerConfigError({
      section: WHERE,
      field: source,
      message: `expected a function or a class, got ${describe(options[source])}`,
    });
  }
  const moduleOptions = Object.fromEntries(Object.entries(options).filter(([name]) => !ASYNC_FIELDS.has(name))) as LockerModuleOptions;
  return { providers: [...configProviders(options), ...(options.extraProviders ?? [])], moduleOptions };
}

function configProviders(options: LockerModuleAsyncOptions): Provider[] {
  const fromFactory = async (factory: LockerConfigFactory) => resolveLockerConfig(await factory.createLockerConfig());
  if (options.useFactory) {
    const useFactory = options.useFactory;
    return [
      {
        provide: LOCKER_RESOLVED_CONFIG,
        useFactory: async (...deps: unknown[]) => resolveLockerConfig(await useFactory(...deps)),
        inject: options.inject ?? [],
      },
    ];
  }
  if (options.useClass) {
    return [
      { provide: LOCKER_CONFIG_FACTORY, useClass: options.useClass },
      { provide: LOCKER_RESOLVED_CONFIG, useFactory: fromFactory, inject: [LOCKER_CONFIG_FACTORY] },
    ];
  }
  return [
    { provide: LOCKER_RESOLVED_CONFIG, useFactory: fromFactory, inject: [options.useExisting as NonNullable<typeof options.useExisting>] },
  ];
}
