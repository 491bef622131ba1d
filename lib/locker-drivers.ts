import { Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { LockerSection, ResolvedLockerConfig } from './config/resolve-locker-config';
import { LockerConfigError } from './errors';
import type { LockEvent } from './interfaces/lock-event.interface';
import type { LockerDriver } from './interfaces/locker-driver.interface';
import { didYouMean } from './utils/closest-name';

/** The driver instances the module created from the config, one per referenced connection section. */
export class LockerDrivers {
  private readonly logger = new Logger('LockerModule');

  private constructor(
    private readonly config: ResolvedLockerConfig,
    private readonly instances: Map<string, LockerDriver>,
    readonly events: Subject<LockEvent>,
  ) {}

  /** Creates and connects every driver instance; if one fails, closes the others and rethrows. */
  static async connect(config: ResolvedLockerConfig): Promise<LockerDrivers> {
    const events = new Subject<LockEvent>();
    const instances = new Map<string, LockerDriver>();
    const specs = [...config.instances.values()];
    const results = await Promise.allSettled(
      specs.map(async (spec) => {
        const driver = await spec.factory.create(spec.settings, { instanceId: spec.instanceId, events: (event) => events.next(event) });
        instances.set(spec.instanceId, driver);
      }),
    );
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) {
      await Promise.allSettled([...instances.values()].map((driver) => driver.close()));
      throw failure.reason;
    }
    return new LockerDrivers(config, instances, events);
  }

  /** A locker section and its driver; unknown names fail with the sections there are. */
  locker(name: string): { section: LockerSection; driver: LockerDriver } {
    const section = this.config.lockers.get(name);
    if (!section) {
      const known = [...this.config.lockers.keys()];
      throw new LockerConfigError({
        section: name,
        field: 'locker',
        message: `no locker section [${name}] in the config${didYouMean(name, known)}; expected one of ${known.join(', ')}`,
      });
    }
    return { section, driver: this.instances.get(section.driverInstanceId) as LockerDriver };
  }

  instance(instanceId: string): LockerDriver {
    const driver = this.instances.get(instanceId);
    if (!driver) {
      throw new LockerConfigError({
        section: instanceId,
        field: 'driverInstanceIds',
        message: `no locker section uses [${instanceId}]; expected one of ${[...this.instances.keys()].join(', ')}`,
      });
    }
    return driver;
  }

  all(): LockerDriver[] {
    return [...this.instances.values()];
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(this.all().map((driver) => driver.close()));
    for (const result of results)
      if (result.status === 'rejected') this.logger.warn(`Closing a locker driver failed: ${String(result.reason)}`);
    this.events.complete();
  }
}
