import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

/**
 * How long after bootstrap the check looks: `NestFactory.createApplicationContext()` bootstraps before it
 * returns, so `app.enableShutdownHooks()` can only come after; this leaves main.ts time for it.
 */
export const SHUTDOWN_HOOKS_CHECK_MS = 1000;

/**
 * Warns when nothing handles SIGTERM: then the signal ends the process at once, no shutdown runs, and every lock
 * it holds stays on the server until its TTL runs out (other nodes wait that long). `app.enableShutdownHooks()`
 * makes Nest listen for it; any other SIGTERM listener counts too, since the app then decides how to exit.
 */
@Injectable()
export class ShutdownHooksCheck implements OnApplicationBootstrap, OnApplicationShutdown {
  /** Once per process: every app in it shares the same signal handlers. */
  private static warned = false;
  private readonly logger = new Logger('LockerModule');
  private timer?: NodeJS.Timeout;

  onApplicationBootstrap(): void {
    this.timer = setTimeout(() => this.check(), SHUTDOWN_HOOKS_CHECK_MS).unref();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  private check(): void {
    if (ShutdownHooksCheck.warned || process.listenerCount('SIGTERM') > 0) return;
    ShutdownHooksCheck.warned = true;
    this.logger.warn(
      'Nothing handles SIGTERM, so on SIGTERM this process exits without releasing its locks and other nodes wait up to ' +
        'their TTL for them. Call app.enableShutdownHooks() in main.ts.',
    );
  }
}
