import type { AcquisitionPipeline } from '../acquisition/acquisition-pipeline';
import { LEADER } from '../acquisition/lock-kind';
import { pauseBeforeRetry } from '../acquisition/outage-backoff';
import { LockerConfigError, LockerError, LockerUnavailableError } from '../errors';
import type { CampaignOptions, Election, LeaderInfo } from '../interfaces/election.interface';
import type { Lock } from '../interfaces/lock.interface';
import type { LockerDriver } from '../interfaces/locker-driver.interface';
import type { LockerDrivers } from '../locker-drivers';
import { pause } from '../scheduling/pause';
import { monotonicNow } from '../utils/clock';
import { describe } from '../utils/describe';
import { assertDuration, assertKnownOptions, assertOptionsObject } from '../utils/lock-options';
import type { ResolvedElectionOptions } from './election-options';
import { FEED_ENDED, LeaderFeed } from './leader-feed';

/** A driver that holds elections: the three methods of the SPI are there. */
type ElectingDriver = LockerDriver & Required<Pick<LockerDriver, 'proclaim' | 'leader' | 'watchLeader'>>;

const CAMPAIGN_FIELDS = ['signal', 'waitTime'];

/** What an election of an app uses: the one acquisition pipeline, the drivers, and a signal per observer that shutdown aborts. */
export interface ElectionHost {
  pipeline: AcquisitionPipeline;
  drivers: LockerDrivers;
  untilShutdown: () => { signal: AbortSignal; forget: () => void };
}

/**
 * One election of an app. Thin, on the lock-kind seam: a campaign is the `leader` lock of the name taken
 * through the acquisition pipeline, then the value proclaimed; resign is its release; who leads and its
 * changes are the driver's `leader()` and `watchLeader()`. The term is the leadership lock's fencing token.
 */
export class LockerElection implements Election {
  private lock?: Lock;
  /** Aborted by resign(): withdraws the campaign on its way. */
  private campaigning?: AbortController;
  /** `Class.method` of the `@OnLeadership` that campaigns for this election in this app, if one does. */
  private owner?: string;

  constructor(
    readonly name: string,
    private readonly options: ResolvedElectionOptions,
    private readonly host: ElectionHost,
  ) {}

  get isLeader(): boolean {
    return this.lock?.held ?? false;
  }

  /**
   * For `@OnLeadership`: from now on `owner` campaigns for this election, through the function returned, and
   * campaign() by hand is refused naming it: the two would compete, and the decorator's loop would log the
   * other's 'already campaigning' at every retry.
   */
  ownBy(owner: string): (options?: CampaignOptions) => Promise<Lock> {
    this.owner = owner;
    return (options) => this.campaignFor(options, `campaign() of election "${this.name}" by ${owner}`);
  }

  async campaign(options?: CampaignOptions): Promise<Lock> {
    const where = `campaign() of election "${this.name}"`;
    if (this.owner) {
      throw new LockerConfigError({
        section: where,
        message:
          `@OnLeadership on ${this.owner} campaigns for election "${this.name}" in this app; a campaign by hand would compete with it. ` +
          'Read isLeader, leader() or observe() instead, or give the decorated method an election of its own name',
      });
    }
    return this.campaignFor(options, where);
  }

  private async campaignFor(options: CampaignOptions | undefined, where: string): Promise<Lock> {
    checkCampaignOptions(options, where);
    if (this.lock?.held) return this.lock;
    const { driver } = this.electing();
    if (this.campaigning) {
      throw new LockerError(`Election "${this.name}" is already campaigning in this app; await that campaign instead`, {
        key: this.name,
        section: this.options.locker,
      });
    }
    const withdraw = new AbortController();
    this.campaigning = withdraw;
    try {
      const signal = options?.signal ? AbortSignal.any([options.signal, withdraw.signal]) : withdraw.signal;
      return await this.elect(driver, signal, options?.waitTime, where);
    } finally {
      this.campaigning = undefined;
    }
  }

  async resign(): Promise<void> {
    this.campaigning?.abort(
      new LockerError(`The campaign for election "${this.name}" was withdrawn: resign() was called`, { key: this.name }),
    );
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }

  async leader(): Promise<LeaderInfo | null> {
    const { driver, keyPrefix, section } = this.electing();
    try {
      return await driver.leader(keyPrefix, this.name);
    } catch (error) {
      throw LockerUnavailableError.wrap(error, { key: this.name, section, driver: driver.type });
    }
  }

  async *observe(signal?: AbortSignal): AsyncIterableIterator<LeaderInfo | null> {
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new LockerConfigError({
        section: `observe() of election "${this.name}"`,
        field: 'signal',
        message: `expected an AbortSignal, got ${describe(signal)}`,
      });
    }
    const { driver, keyPrefix } = this.electing();
    const untilShutdown = this.host.untilShutdown();
    const stop = signal ? AbortSignal.any([signal, untilShutdown.signal]) : untilShutdown.signal;
    const feed = new LeaderFeed();
    const watch = driver.watchLeader(keyPrefix, this.name, feed.push);
    try {
      for (;;) {
        const next = await feed.next(stop);
        if (next === FEED_ENDED) return;
        yield next;
      }
    } finally {
      watch.close();
      untilShutdown.forget();
    }
  }

  /**
   * Takes the leadership lock, then proclaims. A lock lost before its proclaim landed (or a proclaim the
   * server did not answer) is let go and the campaign goes on, through an outage too, until its wait ends.
   */
  private async elect(driver: ElectingDriver, signal: AbortSignal, waitTime: number | undefined, where: string): Promise<Lock> {
    const startedAt = monotonicNow();
    const { ttl, locker, value } = this.options;
    for (let retry = 1; ; retry++) {
      const left = waitTime === undefined ? undefined : Math.max(0, waitTime - (monotonicNow() - startedAt));
      const lock = (await this.host.pipeline.take(this.name, LEADER, { ttl, locker, signal, waitTime: left }, true, where)) as Lock;
      let proclaimed = false;
      let failure: unknown;
      try {
        proclaimed = await driver.proclaim(lock, value);
      } catch (error) {
        failure = LockerUnavailableError.wrap(error, { key: this.name, section: locker, driver: driver.type });
      }
      if (proclaimed && !signal.aborted) {
        this.lock = lock;
        return lock;
      }
      await lock.release().catch(() => undefined); // owner-checked; unanswered, it ends with its lease
      signal.throwIfAborted(); // resign() (or the caller) withdrew while it proclaimed
      if (failure && !(failure instanceof LockerUnavailableError)) throw failure;
      const backoff = pauseBeforeRetry(retry);
      if (failure && waitTime !== undefined && waitTime - (monotonicNow() - startedAt) <= backoff) throw failure;
      await pause(backoff, signal);
      signal.throwIfAborted();
    }
  }

  /** The election's driver (checked when the election was made: see electingDriver). */
  private electing(): { driver: ElectingDriver; keyPrefix: string; section: string } {
    const { section, driver } = this.host.drivers.locker(this.options.locker);
    return { driver: driver as ElectingDriver, keyPrefix: section.keyPrefix, section: section.name };
  }
}

/** Throws a LockerConfigError that says what the driver of locker section `locker` lacks, if it cannot hold elections. */
export function assertElectingDriver(drivers: LockerDrivers, locker: string): void {
  const { section, driver } = drivers.locker(locker);
  const missing = (['proclaim', 'leader', 'watchLeader'] as const).filter((method) => typeof driver[method] !== 'function');
  if ((driver.kinds ?? ['lock']).includes('leader') && missing.length === 0) return;
  throw new LockerConfigError({
    section: section.name,
    field: 'driver',
    message:
      `the "${driver.type}" driver cannot hold elections: it ${missing.length > 0 ? `implements no ${missing.map((method) => `${method}()`).join(', ')}` : "does not list 'leader' in its kinds"}; ` +
      "a driver that does lists 'leader' in kinds and implements proclaim(), leader() and watchLeader() (see docs/extending.md)",
  });
}

/** Checks campaign() options at the call (before any wait is counted down), naming the field. */
function checkCampaignOptions(options: CampaignOptions | undefined, where: string): void {
  assertOptionsObject(options, where);
  if (options?.waitTime !== undefined) assertDuration(options.waitTime, 'waitTime', where);
  if (options?.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new LockerConfigError({ section: where, field: 'signal', message: `expected an AbortSignal, got ${describe(options.signal)}` });
  }
  if (options) assertKnownOptions(options, CAMPAIGN_FIELDS, where, " (ttl, locker and value are the election's: election(name, options))");
}
