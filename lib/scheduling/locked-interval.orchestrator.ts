import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { LockerModuleOptions } from '../interfaces/locker-config.interface';
import { DEFAULT_SHUTDOWN_TIMEOUT, LOCKER_MODULE_OPTIONS } from '../locker.constants';
import { settleWithin } from '../utils/settle-within';
import { LockedIntervalExplorer } from './locked-interval.explorer';
import { LockedIntervalRegistry } from './locked-interval.registry';

/** Runs the `@LockedInterval` loops: starts them at bootstrap and stops them at shutdown. */
@Injectable()
export class LockedIntervalOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LockedInterval');

  constructor(
    private readonly explorer: LockedIntervalExplorer,
    private readonly registry: LockedIntervalRegistry,
    @Inject(LOCKER_MODULE_OPTIONS) private readonly moduleOptions: LockerModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    // Found here rather than in the explorer's own hook: Nest runs one module's hooks side by side, and
    // the loops must be registered before they are started.
    const found = this.explorer.registerLoops();
    for (const loop of this.registry.all()) loop.start();
    if (found.length > 0) this.logger.log(`Started ${found.length} locked loop(s): ${found.join(', ')}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const timeout = this.moduleOptions.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    await settleWithin(Promise.all(this.registry.all().map((loop) => loop.stop())), timeout);
  }
}
