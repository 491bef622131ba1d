import { Inject, Injectable, Logger } from '@nestjs/common';
import { LockContext, LockedInterval } from 'nest-locker';
import { APP_ENV, AppEnv } from './app-env.config';
import { sleep } from './sleep.util';

/** Builds a report every second on exactly one instance; if that one dies, another takes over within the TTL. */
@Injectable()
export class ReportBuilderService {
  private readonly logger = new Logger(ReportBuilderService.name);
  private built = 0;

  constructor(@Inject(APP_ENV) private readonly env: AppEnv) {}

  @LockedInterval({ interval: 1000, ttl: 3000, locker: 'jobs_locker', key: 'report-builder' })
  async build(): Promise<void> {
    await sleep(300);
    const lock = LockContext.current();
    if (!lock?.held) {
      // The lease ran out while we worked (a long pause, a partition): someone else may be building now.
      this.logger.warn(`report discarded on ${this.env.instance}: the lock was lost while building it`);
      return;
    }
    this.built++;
    this.logger.log(`report #${this.built} built by ${this.env.instance} (fencing token ${lock.fencingToken})`);
  }
}
