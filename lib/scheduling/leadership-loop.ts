import { Logger } from '@nestjs/common';
import type { LockedRuns } from '../acquisition/locked-runs';
import type { ServerLockRef } from '../context/lock-context';
import { LockerClosedError, LockLostError } from '../errors';
import type { CampaignOptions, Election } from '../interfaces/election.interface';
import type { Lock } from '../interfaces/lock.interface';
import { monotonicNow } from '../utils/clock';
import { pause } from './pause';

/** A method still running this long after its signal aborted is said to ignore it (and again when it ends). */
export const OVERRUN_WARN_MS = 1_000;
/** Stopping within this long of the signal is stopping on it. */
const OVERRUN_GRACE_MS = 100;

/** One `@OnLeadership` method: campaign, lead while the method runs, resign, campaign again. */
export class LeadershipLoop {
  private readonly logger = new Logger('OnLeadership');
  private stopper?: AbortController;
  private loop?: Promise<void>;
  /** When the running method's signal aborted (monotonic), while it has not returned. */
  private abortedAt?: number;

  constructor(
    /** `Class.method`, as logs name it. */
    readonly owner: string,
    readonly election: Election,
    /** The election's campaign, which only this loop may run (`LockerElection.ownBy`). */
    private readonly campaign: (options: CampaignOptions) => Promise<Lock>,
    private readonly method: (signal: AbortSignal) => unknown,
    private readonly retryInterval: number,
    private readonly runs: LockedRuns,
    private readonly ref: ServerLockRef,
  ) {}

  start(): void {
    if (this.loop) return;
    const stopper = new AbortController();
    this.stopper = stopper;
    this.loop = this.campaignAgainAndAgain(stopper.signal).finally(() => (this.loop = undefined));
  }

  /** Stops campaigning, aborts the method's signal and waits for it; then it has resigned. */
  async stop(): Promise<void> {
    this.stopper?.abort(new LockerClosedError());
    await this.loop;
  }

  /** How long the method has run since its signal aborted; undefined while it leads or is not running. */
  get overrunMs(): number | undefined {
    return this.abortedAt === undefined ? undefined : Math.round(monotonicNow() - this.abortedAt);
  }

  private async campaignAgainAndAgain(stop: AbortSignal): Promise<void> {
    const { name } = this.election;
    while (!stop.aborted) {
      let lock: Lock;
      try {
        lock = await this.campaign({ signal: stop });
      } catch (error) {
        if (stop.aborted || error instanceof LockerClosedError) return;
        this.logger.error(`${this.owner}: campaign for "${name}" failed; campaigning again in ${this.retryInterval} ms: ${String(error)}`);
        await pause(this.retryInterval, stop);
        continue;
      }
      this.logger.log(`${this.owner} leads "${name}" here (term ${lock.fencingToken})`);
      await this.lead(lock, stop);
      await this.election
        .resign()
        .catch((error: unknown) => this.logger.warn(`${this.owner}: resigning "${name}" failed: ${String(error)}`));
      if (stop.aborted) return;
      if (lock.signal.reason instanceof LockLostError) {
        this.logger.warn(`${this.owner} lost "${name}" (${lock.signal.reason.message}); campaigning again in ${this.retryInterval} ms`);
      }
      await pause(this.retryInterval, stop);
    }
  }

  /** Runs the method with a signal that aborts when leadership ends or the app stops; tracked for shutdown. */
  private async lead(lock: Lock, stop: AbortSignal): Promise<void> {
    const leading = AbortSignal.any([lock.signal, stop]);
    let nag: NodeJS.Timeout | undefined;
    const onEnd = (): void => {
      this.abortedAt = monotonicNow();
      nag = setTimeout(
        () =>
          this.logger.warn(
            `${this.owner} ignores its signal: still running ${this.overrunMs} ms after its leadership of "${this.election.name}" ended (${String(leading.reason)})`,
          ),
        OVERRUN_WARN_MS,
      );
      nag.unref();
    };
    leading.addEventListener('abort', onEnd, { once: true });
    try {
      await this.runs.tracked(lock, this.ref, async () => this.method(leading));
      if (!leading.aborted) this.logger.log(`${this.owner} returned; resigning "${this.election.name}"`);
    } catch (error) {
      this.logger.error(`${this.owner} threw while leading "${this.election.name}"; resigning: ${String(error)}`, (error as Error)?.stack);
    } finally {
      leading.removeEventListener('abort', onEnd);
      clearTimeout(nag);
      const overran = this.overrunMs;
      this.abortedAt = undefined;
      if (overran !== undefined && overran > OVERRUN_GRACE_MS) {
        this.logger.warn(
          `${this.owner} overran its leadership of "${this.election.name}" by ${overran} ms: it returned that long after its signal aborted`,
        );
      }
    }
  }
}
