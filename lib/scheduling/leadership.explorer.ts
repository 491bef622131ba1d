import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { LEADER } from '../acquisition/lock-kind';
import { LockedRuns } from '../acquisition/locked-runs';
import type { OnLeadershipMetadata } from '../decorators/on-leadership.decorator';
import { LockerConfigError } from '../errors';
import { ON_LEADERSHIP_METADATA } from '../locker.constants';
import { LockerService } from '../locker.service';
import { LOCK_DEFAULTS } from '../utils/lock-options';
import { LeadershipLoop } from './leadership-loop';
import { findDecoratedMethods } from './decorated-methods';
import type { LockerElection } from '../election/locker-election';

/** The pause after a leadership ends before campaigning again, when `retryInterval` is not given. */
const DEFAULT_RETRY_INTERVAL_MS = 1000;

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
    const found = findDecoratedMethods<OnLeadershipMetadata>(this.discovery, this.scanner, {
      metadataKey: ON_LEADERSHIP_METADATA,
      decorator: '@OnLeadership',
      needs: 'lead with',
    });
    const owners = new Map<string, string>(); // "<locker>/<name>" → Class.method
    return found.map(({ owner, metadata, call }) => {
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
      return new LeadershipLoop(owner, election, election.ownBy(owner), call, retryInterval, this.runs, ref);
    });
  }
}
