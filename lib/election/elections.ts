import type { AcquisitionPipeline } from '../acquisition/acquisition-pipeline';
import { LockerConfigError } from '../errors';
import type { Election, ElectionOptions } from '../interfaces/election.interface';
import type { InFlightWork } from '../lifecycle/in-flight-work';
import type { LockerDrivers } from '../locker-drivers';
import { assertElectionName, resolveElectionOptions, ResolvedElectionOptions, sameElectionOptions } from './election-options';
import { assertElectingDriver, LockerElection } from './locker-election';
import { LOCK_DEFAULTS } from '../utils/lock-options';

/** The apps' elections, each app's beside its one acquisition pipeline. */
const ofApp = new WeakMap<AcquisitionPipeline, Elections>();

/**
 * The elections of one app: one object per name and locker section, so that `@OnLeadership`, a controller
 * that shows who leads and a service that asks `isLeader` all see the same candidacy.
 */
export class Elections {
  private readonly elections = new Map<string, { options: ResolvedElectionOptions; election: LockerElection }>();

  private constructor(
    private readonly pipeline: AcquisitionPipeline,
    private readonly drivers: LockerDrivers,
    private readonly work: InFlightWork,
  ) {}

  static of(pipeline: AcquisitionPipeline, drivers: LockerDrivers, work: InFlightWork): Elections {
    let elections = ofApp.get(pipeline);
    if (!elections) {
      elections = new Elections(pipeline, drivers, work);
      ofApp.set(pipeline, elections);
    }
    return elections;
  }

  /**
   * The election `name` on the options' locker section: made on first use, the same object after that. Asked
   * again with other options (not none, nor only its `locker`), it refuses: two settings for one candidacy would be a mistake.
   */
  election(name: string, options: ElectionOptions | undefined, where = 'election()'): Election {
    assertElectionName(name, where);
    const resolved = resolveElectionOptions(options, where);
    assertElectingDriver(this.drivers, resolved.locker); // an unknown section, or a driver without elections, fails at the call
    const id = `${resolved.locker}\u0000${name}`;
    const known = this.elections.get(id);
    if (known) {
      const sectionOnly = options === undefined || Object.keys(options).every((field) => field === 'locker');
      if (sectionOnly || sameElectionOptions(known.options, resolved)) return known.election;
      // without options an election is on the default section: name this one's section if it is another
      const again =
        resolved.locker === LOCK_DEFAULTS.locker ? `election("${name}")` : `election("${name}", { locker: "${resolved.locker}" })`;
      throw new LockerConfigError({
        section: where,
        field: 'options',
        message:
          `election "${name}" on [${resolved.locker}] was made in this app with other options (ttl ${known.options.ttl}, ` +
          `value ${JSON.stringify(known.options.value)}); one Election per name and section: call ${again} to get it`,
      });
    }
    const election = new LockerElection(name, resolved, {
      pipeline: this.pipeline,
      drivers: this.drivers,
      untilShutdown: () => this.work.untilShutdown(),
    });
    this.elections.set(id, { options: resolved, election });
    return election;
  }
}
