import { Logger } from '@nestjs/common';
import { MUTEX } from '../acquisition/lock-kind';
import type { LockedRuns } from '../acquisition/locked-runs';
import { LockerClosedError } from '../errors';
import type { Lock } from '../interfaces/lock.interface';
import type { ResolvedLockedIntervalOptions } from '../interfaces/locked-interval-options.interface';
import { pause } from './pause';

export type LockedLoopState = 'stopped' | 'waiting' | 'running' | 'pausing';

/** What `LockedIntervalRegistry` tells about one loop. */
export interface LockedLoopStatus {
  name: string;
  key: string;
  locker: string;
  state: LockedLoopState;
  /** True while this instance holds the loop's lock. */
  holding: boolean;
  /** The fencing token of the lock this instance holds, if any. */
  fencingToken?: bigint;
  /** Runs of the body on this instance since bootstrap. */
  runs: number;
  lastError?: unknown;
}

/** One `@LockedInterval` method: contend, run while holding, let go on loss or stop. */
export class LockedLoop {
  private readonly logger = new Logger('LockedInterval');
  private state: LockedLoopState = 'stopped';
  private stopper?: AbortController;
  private loop?: Promise<void>;
  private lock?: Lock;
  private runs = 0;
  private lastError?: unknown;

  constructor(
    readonly options: ResolvedLockedIntervalOptions,
    private readonly body: () => unknown,
    private readonly locked: LockedRuns,
  ) {}

  get status(): LockedLoopStatus {
    const { name, key, locker } = this.options;
    const holding = this.lock?.held ?? false;
    return {
      name,
      key,
      locker,
      state: this.state,
      holding,
      fencingToken: holding ? this.lock?.fencingToken : undefined,
      runs: this.runs,
      lastError: this.lastError,
    };
  }

  start(): void {
    if (this.loop) return;
    const stopper = new AbortController();
    this.stopper = stopper;
    this.loop = this.contend(stopper.signal).finally(() => {
      this.state = 'stopped';
      this.loop = undefined;
    });
  }

  /** Stops contending; a running body finishes first; then the lock is released. */
  async stop(): Promise<void> {
    this.stopper?.abort();
    await this.loop;
  }

  private async contend(stop: AbortSignal): Promise<void> {
    const { key, locker, ttl, lockRetryInterval, name } = this.options;
    while (!stop.aborted) {
      this.state = 'waiting';
      let lock: Lock;
      try {
        lock = (await this.locked.pipeline.take(key, MUTEX, { locker, ttl, signal: stop }, true, `@LockedInterval ${name}`)) as Lock;
      } catch (error) {
        if (stop.aborted || error instanceof LockerClosedError) return;
        this.lastError = error;
        this.logger.error(`Loop "${name}" could not take lock "${key}"; retrying in ${lockRetryInterval} ms: ${String(error)}`);
        await this.pauseFor(lockRetryInterval, stop);
        continue;
      }
      this.lock = lock;
      this.logger.log(`Loop "${name}" holds lock "${key}" (fencing token ${lock.fencingToken}) and runs here`);
      try {
        await this.runWhileHeld(lock, stop);
      } finally {
        await lock.release().catch(() => undefined); // unanswered: logged by the lock, which ends with its lease
        this.lock = undefined;
      }
      if (stop.aborted) return;
      this.logger.warn(
        `Loop "${name}" lost lock "${key}" (${String(lock.signal.reason ?? 'lease deadline passed')}); contending again in ${lockRetryInterval} ms`,
      );
      await this.pauseFor(lockRetryInterval, stop);
    }
  }

  private async runWhileHeld(lock: Lock, stop: AbortSignal): Promise<void> {
    const { key, locker } = this.options;
    const ref = this.locked.pipeline.serverLock(key, MUTEX, locker);
    while (!stop.aborted && lock.held) {
      this.state = 'running';
      try {
        await this.locked.tracked(lock, ref, async () => this.body());
      } catch (error) {
        this.lastError = error;
        this.logger.error(`Loop "${this.options.name}" body threw; the loop goes on: ${String(error)}`, (error as Error)?.stack);
      }
      this.runs++;
      await this.pauseFor(this.options.interval, stop, lock.signal);
    }
  }

  private async pauseFor(ms: number, ...signals: AbortSignal[]): Promise<void> {
    this.state = 'pausing';
    await pause(ms, ...signals);
  }
}
