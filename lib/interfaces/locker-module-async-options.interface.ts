import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Provider, Type } from '@nestjs/common';
import type { LockerConfig, LockerModuleOptions } from './locker-config.interface';

/** A provider that makes the config (`useClass` / `useExisting` of `LockerModule.forRootAsync`). */
export interface LockerConfigFactory {
  createLockerConfig(): LockerConfig | Promise<LockerConfig>;
}

/**
 * `LockerModule.forRootAsync`: the config comes from exactly one of `useFactory`, `useClass` or `useExisting`,
 * as in `@nestjs/bullmq` and `@nestjs/cache-manager`.
 */
export interface LockerModuleAsyncOptions extends LockerModuleOptions, Pick<ModuleMetadata, 'imports'> {
  /** Returns the config; its parameters are the providers of `inject`. */
  useFactory?: (...deps: any[]) => LockerConfig | Promise<LockerConfig>;
  /** Providers passed to `useFactory`. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** A class the module instantiates (with its own dependencies) and asks for the config. */
  useClass?: Type<LockerConfigFactory>;
  /** A provider, already available through `imports`, that the module asks for the config. */
  useExisting?: Type<LockerConfigFactory>;
  /** More providers for this module, e.g. what `useClass` depends on. */
  extraProviders?: Provider[];
  /** Connection sections whose drivers should be injectable with `@InjectLockerDriver(id)`. */
  driverInstanceIds?: string[];
}
