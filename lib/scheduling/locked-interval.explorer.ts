import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { LockerConfigError } from '../errors';
import type { LockedIntervalOptions, ResolvedLockedIntervalOptions } from '../interfaces/locked-interval-options.interface';
import { LOCKED_INTERVAL_METADATA, LOCKER_DRIVERS } from '../locker.constants';
import { LockedRuns } from '../acquisition/locked-runs';
import type { LockerDrivers } from '../locker-drivers';
import { LOCK_DEFAULTS } from '../utils/lock-options';
import { LockedIntervalRegistry } from './locked-interval.registry';
import { LockedLoop } from './locked-loop';

/** Finds `@LockedInterval` methods (at bootstrap, for the orchestrator), checks them and registers their loops. */
@Injectable()
export class LockedIntervalExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: LockedIntervalRegistry,
    private readonly runs: LockedRuns,
    @Inject(LOCKER_DRIVERS) private readonly drivers: LockerDrivers,
  ) {}

  /** Registers a loop per method found; returns their names. */
  registerLoops(): string[] {
    const found = [...this.discovery.getProviders(), ...this.discovery.getControllers()].flatMap((wrapper) => this.loopsOf(wrapper));
    const owners = new Map<string, string>(); // "key:<locker>/<key>" and "name:<name>" → Class.method
    for (const { options, owner } of found) {
      for (const [id, what] of [
        [`key:${options.locker}/${options.key}`, `lock "${options.key}"`],
        [`name:${options.name}`, `name "${options.name}"`],
      ]) {
        const previous = owners.get(id);
        if (previous) {
          throw new LockerConfigError({
            section: `@LockedInterval on ${owner}`,
            field: id.startsWith('key') ? 'key' : 'name',
            message: `${what} is already used by the loop on ${previous}; give one of them its own key and name`,
          });
        }
        owners.set(id, owner);
      }
    }
    for (const { options, body } of found) {
      this.drivers.locker(options.locker); // an unknown locker section fails here, at bootstrap
      this.registry.add(new LockedLoop(options, body, this.runs));
    }
    return found.map((loop) => loop.options.name);
  }

  private loopsOf(wrapper: InstanceWrapper): { options: ResolvedLockedIntervalOptions; body: () => unknown; owner: string }[] {
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
      this.refuseScoped(wrapper);
      return [];
    }
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || typeof instance !== 'object') return [];
    const prototype = Object.getPrototypeOf(instance) as object;
    return this.scanner.getAllMethodNames(prototype).flatMap((method) => {
      const target = instance[method];
      const options =
        typeof target === 'function'
          ? (Reflect.getMetadata(LOCKED_INTERVAL_METADATA, target) as LockedIntervalOptions | undefined)
          : undefined;
      if (!options) return [];
      const owner = `${instance.constructor.name}.${method}`;
      const key = options.key ?? owner;
      const resolved: ResolvedLockedIntervalOptions = {
        interval: options.interval ?? 0,
        key,
        locker: options.locker ?? LOCK_DEFAULTS.locker,
        ttl: options.ttl ?? LOCK_DEFAULTS.ttl,
        lockRetryInterval: options.lockRetryInterval ?? 1000,
        name: options.name ?? key,
      };
      return [{ options: resolved, body: () => (target as () => unknown).call(instance), owner }];
    });
  }

  /**
   * A request-scoped or transient provider has no one instance to run a loop on (a provider becomes
   * request-scoped by depending on one, too): fail at bootstrap rather than never run the loop.
   */
  private refuseScoped(wrapper: InstanceWrapper): void {
    const prototype = (wrapper.metatype as { prototype?: object } | null)?.prototype;
    if (!prototype) return;
    for (const method of this.scanner.getAllMethodNames(prototype)) {
      const target = (prototype as Record<string, unknown>)[method];
      if (typeof target !== 'function' || !Reflect.getMetadata(LOCKED_INTERVAL_METADATA, target)) continue;
      const scope = wrapper.isTransient ? 'transient' : 'request-scoped';
      throw new LockerConfigError({
        section: `@LockedInterval on ${(wrapper.metatype as { name: string }).name}.${method}`,
        message: `the provider is ${scope}, so there is no single instance to run the loop on; expected a singleton provider (the default scope) that does not depend on a request-scoped one`,
      });
    }
  }
}
