import { DiscoveryModule } from '@nestjs/core';
import { DynamicModule, Module, Provider } from '@nestjs/common';
import { asyncConfigProviders } from './config/locker-config.providers';
import { resolveLockerConfig, ResolvedLockerConfig } from './config/resolve-locker-config';
import type { LockerConfig, LockerModuleOptions } from './interfaces/locker-config.interface';
import type { LockerModuleAsyncOptions } from './interfaces/locker-module-async-options.interface';
import { DEFAULT_SHUTDOWN_TIMEOUT, LOCKER_DRIVERS, LOCKER_MODULE_OPTIONS, LOCKER_RESOLVED_CONFIG } from './locker.constants';
import { LockerDrivers } from './locker-drivers';
import { LockerService } from './locker.service';
import { AcquisitionPipeline } from './acquisition/acquisition-pipeline';
import { LockedRuns } from './acquisition/locked-runs';
import { InFlightWork } from './lifecycle/in-flight-work';
import { WithLockExplorer } from './decorators/with-lock.explorer';
import { LockedIntervalExplorer } from './scheduling/locked-interval.explorer';
import { LockedIntervalOrchestrator } from './scheduling/locked-interval.orchestrator';
import { LockedIntervalRegistry } from './scheduling/locked-interval.registry';
import { LeadershipExplorer } from './scheduling/leadership.explorer';
import { LeadershipOrchestrator } from './scheduling/leadership.orchestrator';
import { ShutdownHooksCheck } from './shutdown-hooks.check';
import { getLockerDriverToken } from './utils/get-locker-driver-token.util';

@Module({})
export class LockerModule {
  /** Config is validated here, so a bad section fails before the app starts. */
  static forRoot(config: LockerConfig, options: LockerModuleOptions = {}): DynamicModule {
    const resolved = resolveLockerConfig(config);
    return LockerModule.build([{ provide: LOCKER_RESOLVED_CONFIG, useValue: resolved }], [...resolved.instances.keys()], options);
  }

  /** The config from `useFactory`, `useClass` or `useExisting`, resolved when the app bootstraps. */
  static forRootAsync(options: LockerModuleAsyncOptions): DynamicModule {
    const { providers, moduleOptions } = asyncConfigProviders(options);
    const built = LockerModule.build(providers, options.driverInstanceIds ?? [], moduleOptions);
    return { ...built, imports: [...(built.imports ?? []), ...(options.imports ?? [])] };
  }

  private static build(configProviders: Provider[], driverInstanceIds: string[], options: LockerModuleOptions): DynamicModule {
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
        ...configProviders,
        { provide: LOCKER_MODULE_OPTIONS, useValue: options },
        {
          provide: LOCKER_DRIVERS,
          useFactory: (config: ResolvedLockerConfig) => LockerDrivers.connect(config),
          inject: [LOCKER_RESOLVED_CONFIG],
        },
        ...driverProviders,
        // internal: what the facade and the decorators share (not exported)
        {
          provide: InFlightWork,
          useFactory: (drivers: LockerDrivers) => new InFlightWork(drivers, options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT),
          inject: [LOCKER_DRIVERS],
        },
        {
          provide: AcquisitionPipeline,
          useFactory: (drivers: LockerDrivers, work: InFlightWork) => new AcquisitionPipeline(drivers, work),
          inject: [LOCKER_DRIVERS, InFlightWork],
        },
        {
          provide: LockedRuns,
          useFactory: (pipeline: AcquisitionPipeline, work: InFlightWork) => new LockedRuns(pipeline, work),
          inject: [AcquisitionPipeline, InFlightWork],
        },
        LockerService,
        LockedIntervalRegistry,
        LockedIntervalExplorer,
        LockedIntervalOrchestrator,
        LeadershipExplorer,
        LeadershipOrchestrator,
        ShutdownHooksCheck,
        WithLockExplorer,
      ],
      exports: [LockerService, LockedIntervalRegistry, ...driverProviders.map((provider) => (provider as { provide: string }).provide)],
    };
  }
}
