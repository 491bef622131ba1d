import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import type { LockerModuleOptions } from '../interfaces/locker-config.interface';
import { DEFAULT_SHUTDOWN_TIMEOUT, LOCKER_MODULE_OPTIONS } from '../locker.constants';
import { settleWithin } from '../utils/settle-within';
import { LeadershipExplorer } from './leadership.explorer';
import type { LeadershipLoop } from './leadership-loop';

/** Runs the `@OnLeadership` campaigns: starts them at bootstrap, stops them (bounded) at shutdown. */
@Injectable()
export class LeadershipOrchestrator implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('OnLeadership');
  private loops: LeadershipLoop[] = [];

  constructor(
    private readonly explorer: LeadershipExplorer,
    @Inject(LOCKER_MODULE_OPTIONS) private readonly moduleOptions: LockerModuleOptions,
  ) {}

  /**
   * The elections are made here, before any app module's own init: a service that asks `election(name)` for
   * who leads (at init or later) gets the decorated method's election, with its options.
   */
  onModuleInit(): void {
    this.loops = this.explorer.loops();
  }

  /** Campaigns start once every module is initialised. */
  onApplicationBootstrap(): void {
    for (const loop of this.loops) loop.start();
    if (this.loops.length > 0) {
      this.logger.log(`Campaigning for ${this.loops.map((loop) => `"${loop.election.name}" (${loop.owner})`).join(', ')}`);
    }
  }

  /**
   * Aborts the leaders' signals and waits for their methods to return, then they resign, all within the
   * module's shutdownTimeout; a method still running then is named, and its leadership goes with the rest
   * of the locks (released by the locker's own shutdown).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const timeout = this.moduleOptions.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    if (await settleWithin(Promise.all(this.loops.map((loop) => loop.stop())), timeout)) return;
    for (const loop of this.loops.filter((candidate) => candidate.overrunMs !== undefined)) {
      this.logger.warn(
        `${loop.owner} ignored its signal: still running ${loop.overrunMs} ms after shutdown aborted it; its leadership of "${loop.election.name}" is released regardless`,
      );
    }
  }
}
