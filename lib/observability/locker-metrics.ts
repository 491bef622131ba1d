import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { Logger } from '@nestjs/common';
import type { LockKind } from '../acquisition/lock-kind';
import type { LockEvent, LockEventSource } from '../interfaces/lock-event.interface';
import { LockWaitTimeoutError } from '../errors';
import { monotonicNow } from '../utils/clock';

/** How an acquisition ended, the `locker.outcome` attribute. */
export type AcquireOutcome = 'acquired' | 'timeout' | 'busy' | 'aborted' | 'error';

type OpenTelemetryApi = typeof import('@opentelemetry/api');

const METER_NAME = 'nest-locker';

/**
 * OpenTelemetry instruments on meter `nest-locker`, when `@opentelemetry/api` is installed. Taken at
 * module init, so the app's MeterProvider (registered before bootstrap) is the one used. No key
 * attribute: keys are unbounded; the locker section and the kind (`locker.kind`) are not.
 */
export class LockerMetrics {
  private readonly acquireDuration: Histogram;
  private readonly holdDuration: Histogram;
  private readonly held: UpDownCounter;
  private readonly lost: Counter;
  /** When each lock was taken, for `locker.hold.duration`; weak, so a lock never settled does not leak. */
  private readonly acquiredAt = new WeakMap<LockEventSource, number>();

  private constructor(meter: Meter) {
    this.acquireDuration = meter.createHistogram('locker.acquire.duration', {
      description: 'Time from asking for a lock to getting it, or to giving up (locker.outcome)',
      unit: 's',
    });
    this.holdDuration = meter.createHistogram('locker.hold.duration', { description: 'How long locks were held', unit: 's' });
    this.held = meter.createUpDownCounter('locker.held', { description: 'Locks held by this process' });
    this.lost = meter.createCounter('locker.lost', { description: 'Locks lost while held (locker.lost.reason)' });
  }

  /**
   * The instruments, or undefined when `@opentelemetry/api` is not installed (then nothing is loaded) or no
   * MeterProvider is registered yet: that meter would drop every record for good, so none is made and the
   * locks pay nothing (many apps have the API installed through another package, without an SDK).
   */
  static create(): LockerMetrics | undefined {
    let api: OpenTelemetryApi;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      api = require('@opentelemetry/api') as OpenTelemetryApi;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') {
        new Logger('LockerModule').warn(`@opentelemetry/api could not be loaded; no lock metrics: ${String(error)}`);
      }
      return undefined;
    }
    const meter = api.metrics.getMeter(METER_NAME);
    if (meter.constructor === api.createNoopMeter().constructor) return undefined;
    return new LockerMetrics(meter);
  }

  /** Records one acquisition that began at monotonic time `startedAt`. */
  acquireEnded(section: string, kind: LockKind, startedAt: number, outcome: AcquireOutcome): void {
    const attributes: Attributes = { 'locker.section': section, 'locker.kind': kind, 'locker.outcome': outcome };
    this.acquireDuration.record((monotonicNow() - startedAt) / 1000, attributes);
  }

  /** LockObserver: held locks, hold durations, losses. */
  readonly observe = (event: LockEvent, lock: LockEventSource): void => {
    const attributes: Attributes = { 'locker.section': lock.section, 'locker.kind': lock.kind };
    if (event.type === 'acquired') {
      this.acquiredAt.set(lock, monotonicNow());
      this.held.add(1, attributes);
    } else if (event.type === 'released' || event.type === 'lost') {
      const since = this.acquiredAt.get(lock);
      if (since === undefined) return; // taken before the meter existed
      this.acquiredAt.delete(lock);
      this.held.add(-1, attributes);
      this.holdDuration.record((monotonicNow() - since) / 1000, attributes);
      if (event.type === 'lost') this.lost.add(1, { ...attributes, 'locker.lost.reason': event.error.reason });
    }
  };
}

/** The outcome an acquisition that threw `error` had; `request` is the acquisition (aborted by its caller or shutdown). */
export function outcomeOf(error: unknown, request: { readonly aborted: boolean }): AcquireOutcome {
  if (error instanceof LockWaitTimeoutError) return 'timeout';
  return request.aborted ? 'aborted' : 'error';
}
