import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { AcquisitionPipeline } from './acquisition/acquisition-pipeline';
import { checkWithLockOptions, LockedRuns } from './acquisition/locked-runs';
import { LockSpec, MUTEX, READ, splitPermitOptions, WRITE } from './acquisition/lock-kind';
import { Elections } from './election/elections';
import { LockerConfigError } from './errors';
import { LockerInspection, OperatorOptions } from './inspection/locker-inspection';
import type { Election, ElectionOptions } from './interfaces/election.interface';
import type { Lock } from './interfaces/lock.interface';
import type { LockEvent } from './interfaces/lock-event.interface';
import type { LockerCallOptions } from './interfaces/lock-options.interface';
import type { PermitOptions, WithPermitOptions } from './interfaces/permit-options.interface';
import type { WithLockOptions } from './interfaces/with-lock-options.interface';
import type { LockerHealth, LockInfo } from './interfaces/lock-info.interface';
import { InFlightWork } from './lifecycle/in-flight-work';
import { LockEventStream } from './lock/lock-event-stream';
import { LOCKER_DRIVERS } from './locker.constants';
import type { LockerDrivers } from './locker-drivers';
import { LockerHost } from './locker-host';
import { Locker } from './locker';
import { LockerMetrics } from './observability/locker-metrics';
import { assertLockKey } from './utils/lock-options';

/**
 * Takes locks on the drivers of the config; exported by `LockerModule`. A facade: every kind of lock goes
 * through one acquisition pipeline, bodies through one runner, operators' calls through the inspection.
 */
@Injectable()
export class LockerService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly inspection: LockerInspection;

  constructor(
    @Inject(LOCKER_DRIVERS) private readonly drivers: LockerDrivers,
    private readonly pipeline: AcquisitionPipeline,
    private readonly runs: LockedRuns,
    private readonly work: InFlightWork,
  ) {
    this.inspection = new LockerInspection(drivers);
  }

  /** From now on, decorated methods take their locks here. */
  onModuleInit(): void {
    LockerHost.attach(this.runs);
    this.pipeline.metrics = LockerMetrics.create();
    if (this.pipeline.metrics) this.drivers.observe(this.pipeline.metrics.observe);
  }

  /** Acquired, released, extended, lost and renewal-failed events of every lock of this module. */
  get events(): Observable<LockEvent> {
    // a subscriber that throws is logged; rxjs would rethrow it later as an uncaught exception
    return new LockEventStream(this.drivers.events);
  }

  /** A seed-style lock object on a locker section (the seed's `locker.New()`). */
  create(section: string = 'locker'): Locker {
    this.drivers.locker(section);
    return new Locker(this.pipeline, section);
  }

  /** Waits until the lock is taken (or `waitTime` elapses, or `signal` aborts). */
  acquire(key: string, options?: LockerCallOptions): Promise<Lock> {
    // a waiting take answers a lock or rejects, never null
    return this.pipeline.take(key, MUTEX, options, true, 'acquire()') as Promise<Lock>;
  }

  /** One attempt: the lock, or null when someone else holds it. */
  tryAcquire(key: string, options?: LockerCallOptions): Promise<Lock | null> {
    return this.pipeline.take(key, MUTEX, options, false, 'tryAcquire()');
  }

  /**
   * Runs `fn` while holding the lock and releases it afterwards, whatever `fn` does. Re-entrant: inside a
   * body that already holds `key` (same locker section), `fn` runs under that lock. Takes `@WithLock`'s
   * `onBusy` and `minHold` too.
   */
  withLock<T>(key: string, fn: (lock: Lock) => Promise<T>, options?: WithLockOptions): Promise<T> {
    return this.run(key, fn, options, 'withLock()', plain(MUTEX));
  }

  /** Waits for one of at most `limit` permits of `key` held at once across all processes. */
  acquirePermit(key: string, options: PermitOptions): Promise<Lock> {
    return this.takePermit(key, options, true, 'acquirePermit()') as Promise<Lock>;
  }

  /** One attempt at a permit: the lock, or null when `limit` of them are held (or others wait first). */
  tryAcquirePermit(key: string, options: PermitOptions): Promise<Lock | null> {
    return this.takePermit(key, options, false, 'tryAcquirePermit()');
  }

  /** Runs `fn` holding a permit of `key`, as `withLock` runs under a lock. */
  withPermit<T>(key: string, fn: (lock: Lock) => Promise<T>, options: WithPermitOptions): Promise<T> {
    return this.run(key, fn, options, 'withPermit()', splitPermitOptions);
  }

  /** Waits for a read lock of `key`: shared with other readers, never beside a writer. */
  acquireRead(key: string, options?: LockerCallOptions): Promise<Lock> {
    return this.pipeline.take(key, READ, options, true, 'acquireRead()') as Promise<Lock>;
  }

  /** Waits for the write lock of `key`: exclusive against readers and writers; waiting, it holds back later readers. */
  acquireWrite(key: string, options?: LockerCallOptions): Promise<Lock> {
    return this.pipeline.take(key, WRITE, options, true, 'acquireWrite()') as Promise<Lock>;
  }

  tryAcquireRead(key: string, options?: LockerCallOptions): Promise<Lock | null> {
    return this.pipeline.take(key, READ, options, false, 'tryAcquireRead()');
  }

  tryAcquireWrite(key: string, options?: LockerCallOptions): Promise<Lock | null> {
    return this.pipeline.take(key, WRITE, options, false, 'tryAcquireWrite()');
  }

  withReadLock<T>(key: string, fn: (lock: Lock) => Promise<T>, options?: WithLockOptions): Promise<T> {
    return this.run(key, fn, options, 'withReadLock()', plain(READ));
  }

  withWriteLock<T>(key: string, fn: (lock: Lock) => Promise<T>, options?: WithLockOptions): Promise<T> {
    return this.run(key, fn, options, 'withWriteLock()', plain(WRITE));
  }

  /**
   * The election `name` on a locker section: `campaign()` to lead it (a lock of kind `leader`), `leader()` and
   * `observe()` to see who leads. One object per name and section in an app: asked again, the same one.
   */
  election(name: string, options?: ElectionOptions): Election {
    return Elections.of(this.pipeline, this.drivers, this.work).election(name, options);
  }

  /**
   * Per driver instance (connection section): up or down, the round trip of one request, the locks held
   * here. A server that does not answer is down within HEALTH_TIMEOUT_MS (3 s); never hangs.
   */
  health(): Promise<LockerHealth> {
    return this.inspection.health();
  }

  /**
   * Who holds `key` on the server (any process), its fencing token and TTL left; null when free. `kind`
   * picks the namespace (default `lock`; `read` and `write` both mean the key's read/write lock).
   */
  inspect(key: string, options?: OperatorOptions): Promise<LockInfo | null> {
    return this.inspection.inspect(key, options);
  }

  /**
   * An operator's unlock: removes whoever holds `key` (every holder of a permit or read lock); true if a
   * lock was removed. A holder learns it at its next renewal (its `lock.signal` aborts with a
   * LockLostError); the next holder's fencing token is higher.
   */
  forceRelease(key: string, options?: OperatorOptions): Promise<boolean> {
    return this.inspection.forceRelease(key, options);
  }

  /** Stops taking locks, lets running bodies finish, releases what is held (each step bounded). */
  beforeApplicationShutdown(): Promise<void> {
    return this.work.drain();
  }

  /** Closes the connections the module opened, bounded even if a server does not answer. */
  onApplicationShutdown(): Promise<void> {
    LockerHost.detach(this.runs);
    return this.work.close();
  }

  private takePermit(key: string, options: PermitOptions, wait: boolean, where: string): Promise<Lock | null> {
    try {
      const [spec, lockOptions] = splitPermitOptions(options, where);
      return this.pipeline.take(key, spec, lockOptions, wait, where);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `withLock` for any kind: `specOf` takes the kind's own options (a permit's `limit`) out of `options`. */
  private async run<T, O extends WithLockOptions>(
    key: string,
    fn: (lock: Lock) => Promise<T>,
    options: O | undefined,
    where: string,
    specOf: (options: O | undefined, where: string) => [LockSpec, WithLockOptions | undefined],
  ): Promise<T> {
    if (typeof fn !== 'function') {
      throw new LockerConfigError({ section: where, field: 'fn', message: 'expected a function to run under the lock' });
    }
    assertLockKey(key, where);
    const [spec, lockOptions] = specOf(options, where);
    return (await this.runs.run(key, spec, checkWithLockOptions(lockOptions, where), fn)) as T;
  }
}

/** A kind with no options of its own: the spec, and the options as given. */
const plain =
  (spec: LockSpec) =>
  <O>(options: O): [LockSpec, O] => [spec, options];
