import { Inject, Injectable, Logger } from '@nestjs/common';
import { LockContext, OnLeadership } from 'nest-locker';
import { APP_ENV, AppEnv, readAppEnv } from './app-env.config';
import { sleepUnless } from './sleep.util';

/** What the leader proclaims: its name and where it answers (the decorator's options are fixed at load). */
const env = readAppEnv();
export const FEED_OWNER_VALUE = `${env.instance} http://127.0.0.1:${env.port}`;

/**
 * The partner's feed (a websocket, a Kafka partition) must be consumed by exactly one instance, for as long
 * as it lives: the instances hold an election at bootstrap and the leader owns the feed until it dies, shuts
 * down or loses the lease; then another takes over. The others know who owns it (see FeedWatcher).
 */
@Injectable()
export class FeedOwnerService {
  private readonly logger = new Logger(FeedOwnerService.name);

  constructor(@Inject(APP_ENV) private readonly appEnv: AppEnv) {}

  // ttl: a dead owner is followed within 3 s (the default lease is 60 s). [locker] is redis.
  @OnLeadership('feed-owner', { ttl: 3_000, value: FEED_OWNER_VALUE })
  async consume(signal: AbortSignal): Promise<void> {
    this.logger.log(`${this.appEnv.instance} owns the feed (term ${LockContext.current()?.fencingToken})`);
    let items = 0;
    while (!signal.aborted) {
      await sleepUnless(250, signal); // one item of the feed, handled (it stops as soon as the signal aborts)
      if (!signal.aborted) items++;
    }
    this.logger.log(`${this.appEnv.instance} let go of the feed after ${items} items: ${(signal.reason as Error).message}`);
  }
}
