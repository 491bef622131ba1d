import { DiscoveryModule } from '@nestjs/core';
import { DynamicModule, InjectionToken, Module, ModuleMetadata, OptionalFactoryDependency, Provider } from '@nestjs/common';
import { resolveLockerConfig, ResolvedLockerConfig } from './config/resolve-locker-config';
import type { LockerConfig, LockerModuleOptions } from './interfaces/locker-config.interface';
import { LOCKER_DRIVERS, LOCKER_MODULE_OPTIONS, LOCKER_RESOLVED_CONFIG } from './locker.constants';
import { LockerDrivers } from './locker-drivers';
import { LockerService } from './locker.service';
import { WithLockExplorer } from './decorators/with-lock.explorer';
import { LockedIntervalExplorer } from './scheduling/locked-interval.explorer';
import { LockedIntervalRegistry } from './scheduling/locked-interval.registry';
import { getLockerDriverToken } from './utils/get-locker-driver-token.util';

export interface LockerModuleAsyncOptions extends LockerModuleOptions, Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...deps: any[]) => LockerConfig | Promise<LockerConfig>;
  /** Connection sections whose drivers should be injectable with `@InjectLockerDriver(id)`. */
  driverInstanceIds?: string[];
}

@Module({})
export class LockerModule {
  /** Config is validated here, so a bad section fails before the app starts. */
  static forRoot(config: LockerConfig, options: LockerModuleOptions = {}): DynamicModule {
    const resolved = resolveLockerConfig(config);
    return LockerModule.build({ provide: LOCKER_RESOLVED_CONFIG, useValue: resolved }, [...resolved.instances.keys()], options);
  }

  static forRootAsync(options: LockerModuleAsyncOptions): DynamicModule {
    const { imports = [], inject = [], useFactory, driverInstanceIds = [], ...moduleOptions } = options;
    const configProvider: Provider = {
      provide: LOCKER_RESOLVED_CONFIG,
      useFactory: async (...deps: unknown[]) => resolveLockerConfig(await useFactory(...deps)),
      inject,
    };
    const built = LockerModule.build(configProvider, driverInstanceIds, moduleOptions);
    return { ...built, imports: [...(built.imports ?? []), ...imports] };
  }

  private static build(configProvider: Provider, driverInstanceIds: string[], options: LockerModuleOptions): DynamicModule {
    const driverProviders: Provider[] = driverInstanceIds.map((id) => ({
      provide: getLockerDriverToken(id),
      useFactory: (drivers: LockerDrivers) => drivers.instance(id),
      inject: [LOCKER_DRIVERS],
    }));
    return {
      module: LockerModule,
      global: options.isGlobal ?? true,
      imports: [DiscoveryModule],
      providers: [
        configProvider,
        { provide: LOCKER_MODULE_OPTIONS, useValue: options },
        {
          provide: LOCKER_DRIVERS,
          useFactory: (config: ResolvedLockerConfig) => LockerDrivers.connect(config),
          inject: [LOCKER_RESOLVED_CONFIG],
        },
        ...driverProviders,
        LockerService,
        LockedIntervalRegistry,
        LockedIntervalExplorer,
        WithLockExplorer,
      ],
      exports: [LockerService, LockedIntervalRegistry, ...driverProviders.map((provider) => (provider as { provide: string }).provide)],
    };
  }
}
