import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { WithLock } from 'nest-locker';
import { APP_ENV, AppEnv } from './app-env.config';

/** A cron job that every instance schedules, but that runs once per tick in the whole cluster. */
@Injectable()
export class CleanupJob {
  private readonly logger = new Logger(CleanupJob.name);

  constructor(@Inject(APP_ENV) private readonly env: AppEnv) {}

  // onBusy 'skip': the instances that lose the race skip this tick. minHold keeps the lock 1.5 s, so an
  // instance whose timer fires a little late still finds it taken. ttl bounds how long a crashed holder
  // blocks the job (the default lease is 60 s).
  @Cron('*/2 * * * * *', { name: 'cleanup' })
  @WithLock('cleanup', { onBusy: 'skip', minHold: 1500, ttl: 5000 })
  async tick(): Promise<void> {
    const second = new Date(Math.round(Date.now() / 1000) * 1000).toISOString().slice(11, 19);
    this.logger.log(`cleanup tick ${second} ran on ${this.env.instance}`);
  }
}
