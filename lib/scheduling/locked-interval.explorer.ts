import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { LockerConfigError } from '../errors';
import type { LockedIntervalOptions, ResolvedLockedIntervalOptions } from '../interfaces/locked-interval-options.interface';
import { LOCKED_INTERVAL_METADATA, LOCKER_DRIVERS } from '../locker.constants';
import { LockedRuns } from '../acquisition/locked-runs';
import type { LockerDrivers } from '../locker-drivers';
import { LOCK_DEFAULTS } from '../utils/lock-options';
import { LockedIntervalRegistry } from './locked-interval.registry';
import { LockedLoop } from './locked-loop';
import { findDecoratedMethods } from './decorated-methods';

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
    const found = findDecoratedMethods<LockedIntervalOptions>(this.discovery, this.scanner, {
      metadataKey: LOCKED_INTERVAL_METADATA,
      decorator: '@LockedInterval',
      needs: 'run the loop on',
    }).map(({ owner, metadata, call }) => ({ owner, options: resolveOptions(metadata, owner), body: call }));
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
}

function resolveOptions(options: LockedIntervalOptions, owner: string): ResolvedLockedIntervalOptions {
  const key = options.key ?? owner;
  return {
    interval: options.interval ?? 0,
    key,
    locker: options.locker ?? LOCK_DEFAULTS.locker,
    ttl: options.ttl ?? LOCK_DEFAULTS.ttl,
    lockRetryInterval: options.lockRetryInterval ?? 1000,
    name: options.name ?? key,
  };
}
