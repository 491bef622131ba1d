import { LockContext, ServerLockRef } from '../context/lock-context';
import { LockBusyError, LockerConfigError, LockerError, LockWaitTimeoutError } from '../errors';
import type { Lock } from '../interfaces/lock.interface';
import type { WithLockOptions } from '../interfaces/with-lock-options.interface';
import type { InFlightWork } from '../lifecycle/in-flight-work';
import { assertDuration, assertOptionsObject, normalizeLockOptions, NormalizedLockOptions } from '../utils/lock-options';
import { describe } from '../utils/describe';
import { monotonicNow } from '../utils/clock';
import type { AcquisitionPipeline } from './acquisition-pipeline';
import { covers, LockSpec } from './lock-kind';

const ON_BUSY = ['wait', 'skip', 'throw'];

/** `withLock`/`@WithLock` options (and their kin), checked once (per call, or where the decorator is declared). */
export interface CheckedWithLockOptions {
  onBusy: 'wait' | 'skip' | 'throw';
  minHold: number;
  lock: NormalizedLockOptions;
}

/** Checks `withLock`/`@WithLock` options, naming `where` in errors, and merges defaults. */
export function checkWithLockOptions(options: WithLockOptions | undefined, where: string): CheckedWithLockOptions {
  assertOptionsObject(options, where);
  const { onBusy = 'wait', minHold = 0, ...lockOptions } = options ?? {};
  if (!ON_BUSY.includes(onBusy)) {
    throw new LockerConfigError({
      section: where,
      field: 'onBusy',
      message: `expected 'wait', 'skip' or 'throw', got ${describe(onBusy)}`,
    });
  }
  assertDuration(minHold, 'minHold', where);
  return { onBusy, minHold, lock: normalizeLockOptions(lockOptions, where) };
}

/**
 * Runs bodies under locks, with `withLock`/`@WithLock` semantics, for every kind: re-entrant, tracked for
 * shutdown from before the lock is granted, `onBusy`, and `minHold`.
 */
export class LockedRuns {
  constructor(
    readonly pipeline: AcquisitionPipeline,
    private readonly work: InFlightWork,
  ) {}

  /**
   * Runs `body` under the lock. Re-entrant: when this async call chain already holds the server lock `key`
   * names for this kind (through this locker section or another one on the same connection and key prefix),
   * `body` runs inside that lock instead of waiting for itself.
   */
  async run<T>(key: string, spec: LockSpec, options: CheckedWithLockOptions, body: (lock: Lock) => Promise<T>): Promise<T | undefined> {
    const { onBusy, minHold, lock: lockOptions } = options;
    const ref = this.pipeline.serverLock(key, spec, lockOptions.locker);
    const outer = LockContext.find(ref);
    if (outer) return this.runInside(outer, spec, body);

    // Tracked from before the lock is granted: shutdown that begins between the grant and the body still
    // waits for the body, and does not release its lock under it.
    return this.work.track(async () => {
      const lock = await this.take(key, spec, onBusy, lockOptions);
      if (!lock) return undefined;
      const acquiredAt = monotonicNow();
      try {
        return await LockContext.run(lock, ref, () => body(lock));
      } finally {
        const keepFor = minHold - (monotonicNow() - acquiredAt);
        // a release the server did not answer is logged by the lock, which ends with its lease: the body's
        // outcome (its result, or what it threw) is the caller's answer, not that
        if (keepFor > 0 && lock.held) await this.work.holdFor(lock, keepFor).catch(() => undefined);
        else await lock.release().catch(() => undefined);
      }
    });
  }

  /** Runs `body` (shutdown waits for it) with `lock` on `ref` as the innermost lock of its call chain. */
  tracked<T>(lock: Lock, ref: ServerLockRef, body: () => Promise<T>): Promise<T> {
    return this.work.track(async () => LockContext.run(lock, ref, body));
  }

  private runInside<T>(outer: Lock, spec: LockSpec, body: (lock: Lock) => Promise<T>): Promise<T> {
    const covered = covers(outer.kind, spec.kind);
    if (covered === true) return body(outer);
    throw new LockerError(
      `This call chain holds a ${outer.kind} lock on "${outer.key}" and asked for a ${spec.kind} lock on it, which would wait for ` +
        (covered === 'upgrade' ? 'itself: a read lock cannot be upgraded; take the write lock from the start' : 'itself'),
      { key: outer.key },
    );
  }

  private async take(key: string, spec: LockSpec, onBusy: string, options: NormalizedLockOptions): Promise<Lock | null> {
    if (onBusy === 'wait') return this.pipeline.takeChecked(key, spec, options, true);
    try {
      const lock = await this.pipeline.takeChecked(key, spec, options, !!options.waitTime);
      if (lock || onBusy === 'skip') return lock;
    } catch (error) {
      if (!(error instanceof LockWaitTimeoutError)) throw error;
      if (onBusy === 'skip') return null;
    }
    throw new LockBusyError(key, options.locker, spec);
  }
}
