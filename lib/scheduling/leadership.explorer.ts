import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { LEADER } from '../acquisition/lock-kind';
import { LockedRuns } from '../acquisition/locked-runs';
import type { OnLeadershipMetadata } from '../decorators/on-leadership.decorator';
import { LockerConfigError } from '../errors';
import { ON_LEADERSHIP_METADATA } from '../locker.constants';
import { LockerService } from '../locker.service';
import { LOCK_DEFAULTS } from '../utils/lock-options';
import { LeadershipLoop } from './leadership-loop';
import type { LockerElection } from '../election/locker-election';

/** The pause after a leadership ends before campaigning again, when `retryInterval` is not given. */
const DEFAULT_RETRY_INTERVAL_MS = 1000;

interface Found {
  owner: string;
  metadata: OnLeadershipMetadata;
  method: (signal: AbortSignal) => unknown;
}

/** Finds `@OnLeadership` methods at bootstrap, checks them, and makes a campaign loop for each. */
@Injectable()
export class LeadershipExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly locker: LockerService,
    private readonly runs: LockedRuns,
  ) {}

  loops(): LeadershipLoop[] {
    const found = [...this.discovery.getProviders(), ...this.discovery.getControllers()].flatMap((wrapper) => this.methodsOf(wrapper));
    const owners = new Map<string, string>(); // "<locker>/<name>" → Class.method
    return found.map(({ owner, metadata, method }) => {
      const where = `@OnLeadership on ${owner}`;
      const { retryInterval = DEFAULT_RETRY_INTERVAL_MS, ...electionOptions } = metadata.options;
      const name = metadata.name ?? owner;
      const locker = electionOptions.locker ?? LOCK_DEFAULTS.locker;
      const previous = owners.get(`${locker}/${name}`);
      if (previous) {
        throw new LockerConfigError({
          section: where,
          field: 'name',
          message: `election "${name}" on [${locker}] is already led by ${previous}; one method per election in an app: give one of them its own name`,
        });
      }
      owners.set(`${locker}/${name}`, owner);
      // the service's elections are LockerElections; an unknown section, or other options, fail here
      const election = this.locker.election(name, electionOptions) as LockerElection;
      const ref = this.runs.pipeline.serverLock(name, LEADER, locker);
      return new LeadershipLoop(owner, election, election.ownBy(owner), method, retryInterval, this.runs, ref);
    });
  }

  private methodsOf(wrapper: InstanceWrapper): Found[] {
    const scoped = !wrapper.isDependencyTreeStatic() || wrapper.isTransient;
    const instance = scoped ? undefined : (wrapper.instance as Record<string, unknown> | undefined);
    // a scoped provider has no one instance: its class is looked at, to refuse it
    const prototype = (
      instance && typeof instance === 'object'
        ? Object.getPrototypeOf(instance)
        : scoped
          ? (wrapper.metatype as { prototype?: unknown } | null)?.prototype
          : undefined
    ) as Record<string, unknown> | undefined;
    if (!prototype || typeof prototype !== 'object') return [];
    return this.scanner.getAllMethodNames(prototype).flatMap((method) => {
      const target = prototype[method];
      const metadata =
        typeof target === 'function'
          ? (Reflect.getMetadata(ON_LEADERSHIP_METADATA, target) as OnLeadershipMetadata | undefined)
          : undefined;
      if (!metadata) return [];
      const owner = `${(prototype.constructor as { name: string }).name}.${method}`;
      if (!instance) {
        throw new LockerConfigError({
          section: `@OnLeadership on ${owner}`,
          message: `the provider is ${wrapper.isTransient ? 'transient' : 'request-scoped'}, so there is no single instance to lead with; expected a singleton provider (the default scope) that does not depend on a request-scoped one`,
        });
      }
      return [{ owner, metadata, method: (signal: AbortSignal) => (target as (signal: AbortSignal) => unknown).call(instance, signal) }];
    });
  }
}
