import { randomBytes } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { LockerConfigError } from '../errors';
import type { Lock } from '../interfaces/lock.interface';
import type { DriverContext, LockerDriver } from '../interfaces/locker-driver.interface';
import { answerWithin } from '../utils/settle-within';

/** The probe lock's lease: room for a busy machine; what a probe that stopped half-way leaves lasts no longer. */
const PROBE_TTL_MS = 10_000;

/** A key no application uses, fresh each time: apps that boot together never meet on it. */
export const probeKey = (): string => `nest-locker-probe:${randomBytes(6).toString('hex')}`;

/** For the copy of a driver a probe runs on: its locks are not the app's, so no event, metric or diagnostics message tells of them. */
export const quietContext = (instanceId: string): DriverContext => ({ instanceId, events: () => undefined });

/** Where a driver's probe path differs from one caller after another on one driver (see probeLockPath). */
export interface ProbeLockPathOptions {
  /** The driver the second caller waits on, as if in another process (default: the holder's). */
  waiter?: LockerDriver;
  /** Takes the first lock with `fair: true` (a fair holder's release goes through the queue at once). */
  fairHolder?: boolean;
  /** Resolves once the second caller waits in the server's queue (default: once the holder's extend is answered). */
  queued?(): Promise<void>;
}

/**
 * One lock through every step a driver's locks take, on `key` under `keyPrefix`: taken; a second caller
 * waits behind it; extended (on a driver with one connection its answer also means the waiter's first ask
 * was answered, so it is queued on the server; else `options.queued` says when); released, to that waiter;
 * released again. Written against the driver's own acquire and release, not its commands, so it follows the
 * driver wherever it goes. Rejects with the first error a step met. Everything it took is released before it
 * settles; the waiter gives up within `waitMs`.
 */
export async function probeLockPath(
  driver: LockerDriver,
  keyPrefix: string,
  key: string,
  waitMs: number,
  options: ProbeLockPathOptions = {},
): Promise<void> {
  const request = { key, section: driver.instanceId, keyPrefix, kind: 'lock' as const, ttl: PROBE_TTL_MS, keepAlive: true, fair: false };
  const holder = await driver.acquire({ ...request, fair: options.fairHolder ?? false, wait: false });
  if (!holder) throw new Error(`the probe's fresh key "${key}" was busy`);
  const stopWaiting = new AbortController();
  const waiter = options.waiter ?? driver;
  const waiting = waiter.acquire({ ...request, wait: true, waitTime: waitMs, signal: stopWaiting.signal }) as Promise<Lock>;
  waiting.catch(() => undefined); // handled below, but it may fail while an earlier step is awaited
  try {
    // whichever comes first: the waiter's failure (a refusal) or its place in the queue
    if (options.queued) await Promise.race([options.queued(), waiting.then(() => undefined)]);
    await holder.extend();
    await holder.release(); // rejects when the server refused (or did not answer)
    await (await waiting).release();
  } finally {
    stopWaiting.abort();
    await Promise.allSettled([holder.release(), waiting.then((lock) => lock.release())]);
  }
}

/**
 * Waits for a driver's probe (`checking`) at most `budgetMs`. A LockerConfigError (the server refused what
 * locks need) rejects, and bootstrap fails naming it. Anything else, or no answer in time, says nothing about
 * permissions: a warning, and bootstrap goes on (the probe cleans up after itself in the background).
 */
export async function awaitProbe(checking: Promise<void>, budgetMs: number, what: string, logger: LoggerService): Promise<void> {
  try {
    await answerWithin(checking, budgetMs, '');
  } catch (error) {
    if (error instanceof LockerConfigError) throw error;
    logger.warn(
      `${what} could not be checked at bootstrap (${(error as Error).message ?? String(error)}); a missing one shows at first use`,
    );
  }
}
