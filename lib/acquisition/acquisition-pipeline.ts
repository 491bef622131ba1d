import { LockerConfigError, LockerUnavailableError, LockWaitTimeoutError } from '../errors';
import type { ServerLockRef } from '../context/lock-context';
import type { Lock } from '../interfaces/lock.interface';
import type { LockerDriver } from '../interfaces/locker-driver.interface';
import type { LockerCallOptions } from '../interfaces/lock-options.interface';
import type { InFlightWork } from '../lifecycle/in-flight-work';
import { DeadlineAnswer } from '../lock/answer-by-deadline';
import { PendingAcquisition } from '../lock/pending-acquisition';
import { WaitScope } from '../lock/wait-scope';
import type { LockerDrivers } from '../locker-drivers';
import { LockerMetrics, outcomeOf } from '../observability/locker-metrics';
import { monotonicNow } from '../utils/clock';
import { assertLockKey, normalizeLockOptions, NormalizedLockOptions } from '../utils/lock-options';
import { LockSpec, namespaceOf } from './lock-kind';
import { pauseBeforeRetry } from './outage-backoff';

/**
 * How every lock is taken, whatever its kind: the locker section's driver asked with one request, answered
 * by the wait's deadline or abort if the driver does not answer first, metered, tracked for shutdown, and a
 * lock granted too late given back.
 */
export class AcquisitionPipeline {
  /** OpenTelemetry instruments, when `@opentelemetry/api` is installed; set at module init. */
  metrics?: LockerMetrics;

  constructor(
    private readonly drivers: LockerDrivers,
    private readonly work: InFlightWork,
  ) {}

  /** Checks the key and options (naming `where`), then takes the lock; `wait: false` is one attempt. */
  take(key: string, spec: LockSpec, options: LockerCallOptions | undefined, wait: boolean, where: string): Promise<Lock | null> {
    try {
      assertLockKey(key, where);
      return this.takeChecked(key, spec, normalizeLockOptions(options, where), wait);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The lock on the server that `key` names for `spec` on locker section `locker`: re-entrancy keys on it. */
  serverLock(key: string, spec: LockSpec, locker: string): ServerLockRef {
    const { section, driver } = this.drivers.locker(locker);
    return { driver, keyPrefix: section.keyPrefix, key, namespace: namespaceOf(spec.kind) };
  }

  /** Takes a lock with `options` already checked (withLock checks them once per call). */
  async takeChecked(
    key: string,
    spec: LockSpec,
    options: NormalizedLockOptions,
    wait: boolean,
    startedAt = monotonicNow(),
  ): Promise<Lock | null> {
    const { section, driver } = this.drivers.locker(options.locker);
    this.work.assertOpen(key, section.name);
    if (!(driver.kinds ?? ['lock']).includes(spec.kind)) throw unsupported(spec, section.name, driver);
    const { waitTime } = options;
    // one attempt never times out: it answers null; a wait that started earlier (a late grant) has what is left
    const deadlineWait = wait && waitTime !== undefined ? Math.max(0, Math.ceil(waitTime - (monotonicNow() - startedAt))) : undefined;
    const request = new PendingAcquisition(key, section.name, section.keyPrefix, spec, options, wait, deadlineWait);
    this.work.started(request);
    // the first ask goes straight to the driver: a retry loop costs only when an ask failed
    const granting = driver.acquire(request).catch((error: unknown) => this.askThroughOutage(driver, request, error));
    // at the deadline: a server that did not answer is an outage, not a busy lock
    const timeout = () =>
      request.endedUnanswered
        ? (request.unanswered ??
          new LockerUnavailableError({ key, section: section.name, driver: driver.type, cause: 'no answer by the wait deadline' }))
        : new LockWaitTimeoutError({
            key,
            section: section.name,
            waitTime: waitTime ?? 0,
            waitedMs: Math.round(monotonicNow() - startedAt),
          });
    // a caller's signal is listened to (through the request's own); shutdown gives up through onAbort
    const answering = new DeadlineAnswer(granting, deadlineWait, options.signal ? request.signal : undefined, timeout, () =>
      this.work.ended(request),
    );
    request.onAbort = (reason) => answering.giveUp(reason);
    request.done = answering.done;
    let lock: Lock | null;
    try {
      lock = await answering.answer;
    } catch (error) {
      this.metrics?.acquireEnded(section.name, spec.kind, startedAt, outcomeOf(error, request));
      // the driver's own deadline: the caller's waitTime and wait, and whether the server answered
      throw error instanceof LockWaitTimeoutError ? timeout() : error;
    }
    // Taken just as the caller aborted or the app began shutting down: give it back, do not hand it out.
    if (lock && request.aborted) {
      this.metrics?.acquireEnded(section.name, spec.kind, startedAt, 'aborted');
      await lock.release().catch(() => undefined); // unanswered: it ends with its lease
      throw request.reason;
    }
    if (lock && !lock.held) {
      // Granted, but the answer came after the lease could have run out (a server that stalled longer than the
      // TTL): the lock is lost already and lets go of the key. Never hand it out; one attempt found nothing.
      if (wait && (waitTime === undefined || monotonicNow() - startedAt < waitTime))
        return this.takeChecked(key, spec, options, wait, startedAt);
      this.metrics?.acquireEnded(section.name, spec.kind, startedAt, wait ? 'timeout' : 'busy');
      if (wait) throw timeout();
      return null;
    }
    this.metrics?.acquireEnded(section.name, spec.kind, startedAt, lock ? 'acquired' : 'busy');
    return lock;
  }

  /**
   * After an ask failed with `error`: our errors as they are, a client's as `LockerUnavailableError`. A waiting
   * acquisition asks again through an outage, after a pause that grows, until its deadline or abort: the
   * server may come back (a failover, a restart), and the wait had time left.
   */
  private async askThroughOutage(driver: LockerDriver, request: PendingAcquisition, error: unknown): Promise<Lock | null> {
    for (let retry = 1; ; retry++) {
      if (request.aborted) throw error; // the caller's (or shutdown's) reason, as given
      const failure = LockerUnavailableError.wrap(error, { key: request.key, section: request.section, driver: driver.type });
      if (!(failure instanceof LockerUnavailableError) || !request.wait) throw failure;
      request.unanswered = failure;
      const pause = pauseBeforeRetry(retry);
      if ((request.waitTime ?? Infinity) <= pause) throw failure;
      await new WaitScope(request).sleep(pause); // rejects when the caller aborts or shutdown begins
      try {
        return await driver.acquire(request);
      } catch (next) {
        error = next;
      }
    }
  }
}

function unsupported(spec: LockSpec, section: string, driver: LockerDriver): LockerConfigError {
  return new LockerConfigError({
    section,
    field: 'driver',
    message: `the "${driver.type}" driver cannot take a lock of kind "${spec.kind}"; it supports ${(driver.kinds ?? ['lock']).join(', ')}`,
  });
}
