import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { LockerClosedError, LockerConfigError, LockWaitTimeoutError } from './errors';
import { LockEventStream } from './lock/lock-event-stream';
import type { Lock } from './interfaces/lock.interface';
import type { LockEvent } from './interfaces/lock-event.interface';
import type { LockerCallOptions } from './interfaces/lock-options.interface';
import type { WithLockOptions } from './interfaces/with-lock-options.interface';
import type { LockerModuleOptions } from './interfaces/locker-config.interface';
import type { ServerLockRef } from './context/lock-context';
import type { LockerHealth, LockInfo } from './interfaces/lock-info.interface';
import { checkHealth, operatorMethod } from './inspection/locker-inspection';
import { LockerMetrics, outcomeOf } from './observability/locker-metrics';
import {
  DEFAULT_SHUTDOWN_TIMEOUT,
  HEALTH_TIMEOUT_MS,
  LOCKER_DRIVERS,
  LOCKER_MODULE_OPTIONS,
  SHUTDOWN_CLOSE_MS,
  SHUTDOWN_RELEASE_MS,
} from './locker.constants';
import { LockerDrivers } from './locker-drivers';
import { Locker } from './locker';
import { LockerHost } from './locker-host';
import { DeadlineAnswer } from './lock/answer-by-deadline';
import { MinHolds } from './lock/min-holds';
import { checkWithLockOptions, runLocked } from './lock/run-locked';
import { PendingAcquisition } from './lock/pending-acquisition';
import { monotonicNow } from './utils/clock';
import { assertLockKey, normalizeLockOptions, NormalizedLockOptions } from './utils/lock-options';
import { settleWithin } from './utils/settle-within';

/** Takes locks on the drivers of the config; exported by `LockerModule`. */
@Injectable()
export class LockerService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(LockerService.name);
  private closing?: LockerClosedError;
  /** Shutdown has begun releasing held locks: from now on a lock is released at once. */
  private releasing = false;
  /**
   * Acquisitions on their way, each aborted by shutdown (not a listener each on one shared signal);
   * shutdown waits for them (`done`) so none is left holding a lock.
   */
  private readonly requests = new Set<PendingAcquisition>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly minHolds = new MinHolds();
  /** OpenTelemetry instruments, when `@opentelemetry/api` is installed; taken at module init. */
  private metrics?: LockerMetrics;

  constructor(
    @Inject(LOCKER_DRIVERS) private readonly drivers: LockerDrivers,
    @Inject(LOCKER_MODULE_OPTIONS) private readonly options: LockerModuleOptions,
  ) {}

  /** From now on, `@WithLock` methods take their locks here. */
  onModuleInit(): void {
    LockerHost.attach(this);
    this.metrics = LockerMetrics.create();
    if (this.metrics) this.drivers.observe(this.metrics.observe);
  }

  /** Acquired, released, extended, lost and renewal-failed events of every lock of this module. */
  get events(): Observable<LockEvent> {
    // a subscriber that throws is logged; rxjs would rethrow it later as an uncaught exception
    return new LockEventStream(this.drivers.events);
  }

  /** A seed-style lock object on a locker section (the seed's `locker.New()`). */
  create(section: string = 'locker'): Locker {
    this.drivers.locker(section);
    return new Locker(this, section);
  }

  /** Waits until the lock is taken (or `waitTime` elapses, or `signal` aborts). */
  acquire(key: string, options?: LockerCallOptions): Promise<Lock> {
    // a waiting take answers a lock or rejects, never null; not awaited here: one promise hop less per lock
    return this.take(key, options, true, 'acquire()') as Promise<Lock>;
  }

  /** One attempt: the lock, or null when someone else holds it. */
  tryAcquire(key: string, options?: LockerCallOptions): Promise<Lock | null> {
    return this.take(key, options, false, 'tryAcquire()');
  }

  /**
   * Runs `fn` while holding the lock and releases it afterwards, whatever `fn` does. Re-entrant: inside a
   * body that already holds `key` (same locker section), `fn` runs under that lock. Takes `@WithLock`'s
   * `onBusy` and `minHold` too.
   */
  async withLock<T>(key: string, fn: (lock: Lock) => Promise<T>, options?: WithLockOptions): Promise<T> {
    if (typeof fn !== 'function') {
      throw new LockerConfigError({ section: 'withLock()', field: 'fn', message: 'expected a function to run under the lock' });
    }
    assertLockKey(key, 'withLock()');
    return (await runLocked(this, key, checkWithLockOptions(options, 'withLock()'), fn)) as T;
  }

  /**
   * Per driver instance (connection section): up or down, the round trip of one request, the locks held
   * here. A server that does not answer is down within HEALTH_TIMEOUT_MS (3 s); never hangs.
   */
  health(): Promise<LockerHealth> {
    return checkHealth(this.drivers.all(), HEALTH_TIMEOUT_MS);
  }

  /** Who holds `key` on the server (any process), its fencing token and TTL left; null when free. */
  inspect(key: string, options?: { locker?: string }): Promise<LockInfo | null> {
    const { section, driver } = this.operatorTarget(key, options, 'inspect()');
    return operatorMethod(driver, section, 'inspect')(section.keyPrefix, key);
  }

  /**
   * An operator's unlock: removes whoever holds `key`; true if a lock was removed. The holder learns it at
   * its next renewal (its `lock.signal` aborts with a LockLostError); the next holder's fencing token is higher.
   */
  forceRelease(key: string, options?: { locker?: string }): Promise<boolean> {
    const { section, driver } = this.operatorTarget(key, options, 'forceRelease()');
    return operatorMethod(driver, section, 'forceRelease')(section.keyPrefix, key);
  }

  private operatorTarget(key: string, options: { locker?: string } | undefined, where: string) {
    assertLockKey(key, where);
    return this.drivers.locker(normalizeLockOptions(options, where).locker);
  }

  /** @internal The lock on the server that `key` names on locker section `locker`: re-entrancy keys on it. */
  serverLock(key: string, options: LockerCallOptions | undefined, where: string): ServerLockRef {
    return this.serverLockOf(key, normalizeLockOptions(options, where).locker);
  }

  /** @internal The same, on a locker section name already checked. */
  serverLockOf(key: string, locker: string): ServerLockRef {
    const { section, driver } = this.drivers.locker(locker);
    return { driver, keyPrefix: section.keyPrefix, key };
  }

  /** @internal Runs work that shutdown must wait for (a locked body, from before its lock is taken). */
  track<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    this.running.add(running);
    const forget = (): void => void this.running.delete(running);
    running.then(forget, forget);
    return running;
  }

  /** @internal Keeps `lock` until `ms` from now (a `minHold`), then releases it; shutdown leaves it to expire. */
  holdFor(lock: Lock, ms: number): Promise<void> {
    if (this.releasing) return lock.release();
    this.minHolds.add(lock, ms);
    return Promise.resolve();
  }

  /**
   * Stop taking locks, let running bodies finish (within `shutdownTimeout`), then, within
   * SHUTDOWN_RELEASE_MS even if a server does not answer: release every lock still held, except one inside
   * its `minHold`, whose lease is cut to what remains of it so that it expires then on the server.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = new LockerClosedError();
    for (const request of this.requests) request.abort(this.closing);
    const timeout = this.options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    if (!(await settleWithin(Promise.allSettled([...this.running]), timeout))) {
      this.logger.warn(`${this.running.size} locked bodies still running after ${timeout} ms; releasing their locks`);
    }
    this.releasing = true;
    // All at once: a server that does not answer must not hold up the others' releases. The acquisitions were
    // aborted above, and each gives back what it took; a lock inside its minHold is left to expire instead.
    const held = this.drivers.all().flatMap((driver) => driver.heldLocks().filter((lock) => !this.minHolds.has(lock)));
    const acquiring = [...this.requests].map((request) => request.done);
    const releasing = Promise.allSettled([...acquiring, this.minHolds.leaveToExpire(), ...held.map((lock) => lock.release())]);
    if (!(await settleWithin(releasing, SHUTDOWN_RELEASE_MS))) {
      this.logger.warn(
        `Releasing the held locks took over ${SHUTDOWN_RELEASE_MS} ms (a server not answering?); they expire with their leases`,
      );
    }
  }

  /** Closes the connections the module opened, within SHUTDOWN_CLOSE_MS even if a server does not answer. */
  async onApplicationShutdown(): Promise<void> {
    LockerHost.detach(this);
    this.minHolds.clear();
    if (!(await settleWithin(this.drivers.close(), SHUTDOWN_CLOSE_MS))) {
      this.logger.warn(`Closing the locker connections took over ${SHUTDOWN_CLOSE_MS} ms (a server not answering?); shutdown goes on`);
    }
  }

  private take(key: string, options: LockerCallOptions | undefined, wait: boolean, where: string): Promise<Lock | null> {
    try {
      assertLockKey(key, where);
      return this.takeChecked(key, normalizeLockOptions(options, where), wait);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** @internal Takes a lock with `options` already checked (withLock checks them once per call). */
  async takeChecked(key: string, options: NormalizedLockOptions, wait: boolean, startedAt = monotonicNow()): Promise<Lock | null> {
    const { section, driver } = this.drivers.locker(options.locker);
    if (this.closing) throw new LockerClosedError(key, section.name);
    const { waitTime, signal } = options;
    // one attempt never times out: it answers null; a wait that started earlier (a late grant) has what is left
    const deadlineWait = wait && waitTime !== undefined ? Math.max(0, Math.ceil(waitTime - (monotonicNow() - startedAt))) : undefined;
    const request = new PendingAcquisition(
      key,
      section.name,
      section.keyPrefix,
      options.ttl,
      options.keepAlive,
      options.fair,
      wait,
      deadlineWait,
      signal,
    );
    this.requests.add(request);
    const granting = driver.acquire(request);
    const timeout = () =>
      new LockWaitTimeoutError({ key, section: section.name, waitTime: waitTime ?? 0, waitedMs: Math.round(monotonicNow() - startedAt) });
    // a caller's signal is listened to (through the request's own); shutdown gives up through onAbort
    const answering = new DeadlineAnswer(granting, deadlineWait, signal ? request.signal : undefined, timeout, () =>
      this.requests.delete(request),
    );
    request.onAbort = (reason) => answering.giveUp(reason);
    request.done = answering.done;
    const answer = answering.answer;
    let lock: Lock | null;
    try {
      lock = await answer;
    } catch (error) {
      this.metrics?.acquireEnded(section.name, startedAt, outcomeOf(error, request));
      throw error;
    }
    // Taken just as the caller aborted or the app began shutting down: give it back, do not hand it out.
    if (lock && request.aborted) {
      this.metrics?.acquireEnded(section.name, startedAt, 'aborted');
      await lock.release();
      throw request.reason;
    }
    if (lock && !lock.held) {
      // Granted, but the answer came after the lease could have run out (a server that stalled longer than the
      // TTL): the lock is lost already and lets go of the key. Never hand it out; one attempt found nothing.
      if (wait && (waitTime === undefined || monotonicNow() - startedAt < waitTime)) return this.takeChecked(key, options, wait, startedAt);
      this.metrics?.acquireEnded(section.name, startedAt, wait ? 'timeout' : 'busy');
      if (wait) throw timeout();
      return null;
    }
    this.metrics?.acquireEnded(section.name, startedAt, lock ? 'acquired' : 'busy');
    return lock;
  }
}
