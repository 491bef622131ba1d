import { Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { LockerSection, ResolvedLockerConfig } from './config/resolve-locker-config';
import { LockerConfigError } from './errors';
import type { LockEvent, LockEventSource } from './interfaces/lock-event.interface';
import type { LockerDriver } from './interfaces/locker-driver.interface';
import { didYouMean } from './utils/closest-name';
import type { LockObserver } from './observability/lock-observer';
import { publishLockEvent } from './observability/lock-diagnostics-channel';

/** The driver instances the module created from the config, one per referenced connection section. */
export class LockerDrivers {
  private readonly logger = new Logger('LockerModule');
  /** Each locker section with its driver, looked up on every acquisition: made once. */
  private readonly targets = new Map<string, { section: LockerSection; driver: LockerDriver }>();

  private constructor(
    private readonly config: ResolvedLockerConfig,
    private readonly instances: Map<string, LockerDriver>,
    readonly events: Subject<LockEvent>,
    private readonly observers: LockObserver[],
  ) {}

  /** Creates and connects every driver instance; if one fails, closes the others and rethrows. */
  static async connect(config: ResolvedLockerConfig): Promise<LockerDrivers> {
    const events = new Subject<LockEvent>();
    // Besides the rxjs stream: node:diagnostics_channel always, metrics once the service adds them.
    const observers: LockObserver[] = [publishLockEvent];
    const sink = (event: LockEvent, lock?: LockEventSource): void => {
      // rxjs' next makes a closure and walks a copy of the subscribers, two per lock cycle: only for a listener
      if (events.observed) events.next(event);
      if (lock) for (const observe of observers) observe(event, lock);
    };
    const instances = new Map<string, LockerDriver>();
    const specs = [...config.instances.values()];
    const results = await Promise.allSettled(
      specs.map(async (spec) => {
        const driver = await spec.factory.create(spec.settings, { instanceId: spec.instanceId, events: sink });
        instances.set(spec.instanceId, driver);
      }),
    );
    const failure = firstFailure(results) ?? firstFailure(await probeKeyPrefixes(config, instances));
    if (failure) {
      await Promise.allSettled([...instances.values()].map((driver) => driver.close()));
      throw failure.reason;
    }
    return new LockerDrivers(config, instances, events, observers);
  }

  /** A locker section and its driver; unknown names fail with the sections there are. */
  locker(name: string): { section: LockerSection; driver: LockerDriver } {
    const target = this.targets.get(name);
    if (target) return target;
    const section = this.config.lockers.get(name);
    if (!section) {
      const known = [...this.config.lockers.keys()];
      throw new LockerConfigError({
        section: name,
        field: 'locker',
        message: `no locker section [${name}] in the config${didYouMean(name, known)}; expected one of ${known.join(', ')}`,
      });
    }
    const found = { section, driver: this.instances.get(section.driverInstanceId) as LockerDriver };
    this.targets.set(name, found);
    return found;
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

  /** `observe` sees every lock event from now on. */
  observe(observe: LockObserver): void {
    this.observers.push(observe);
  }

  /** The locker sections of the config, by name. */
  sections(): LockerSection[] {
    return [...this.config.lockers.values()];
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

const firstFailure = (results: PromiseSettledResult<unknown>[]): PromiseRejectedResult | undefined =>
  results.find((result): result is PromiseRejectedResult => result.status === 'rejected');

/**
 * Each driver checks what its server lets it do, once per key prefix its locker sections use (ACL key
 * patterns are per prefix), all at once: a permission missing fails bootstrap here rather than at first use.
 */
function probeKeyPrefixes(config: ResolvedLockerConfig, instances: Map<string, LockerDriver>): Promise<PromiseSettledResult<void>[]> {
  const probes = new Map<string, Promise<void>>();
  for (const { driverInstanceId, keyPrefix } of config.lockers.values()) {
    const driver = instances.get(driverInstanceId);
    const id = JSON.stringify([driverInstanceId, keyPrefix]);
    if (driver?.probe && !probes.has(id)) probes.set(id, driver.probe(keyPrefix));
  }
  return Promise.allSettled(probes.values());
}
