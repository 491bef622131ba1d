import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LockerService } from 'nest-locker';
import { APP_ENV, AppEnv } from './app-env.config';

/**
 * Every instance follows who owns the feed (to forward a request to it, to show it): observe() yields the
 * owner now, then each change, as the server announces it, until shutdown.
 */
@Injectable()
export class FeedWatcher implements OnApplicationBootstrap {
  private readonly logger = new Logger(FeedWatcher.name);

  constructor(
    private readonly locker: LockerService,
    @Inject(APP_ENV) private readonly env: AppEnv,
  ) {}

  onApplicationBootstrap(): void {
    void this.follow();
  }

  private async follow(): Promise<void> {
    try {
      for await (const owner of this.locker.election('feed-owner').observe()) {
        const who = owner ? `${owner.value?.split(' ')[0]} (term ${owner.term})` : 'none';
        this.logger.log(`${this.env.instance} sees the feed owner: ${who}`);
      }
    } catch (error) {
      this.logger.error(`${this.env.instance} stopped following the feed owner: ${String(error)}`);
    }
  }
}
