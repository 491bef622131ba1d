import { LockerConfigError, LockerError } from './errors';
import { assertOptionsObject } from './utils/lock-options';
import { MUTEX } from './acquisition/lock-kind';
import type { AcquisitionPipeline } from './acquisition/acquisition-pipeline';
import type { Lock } from './interfaces/lock.interface';
import type { LockOptions } from './interfaces/lock-options.interface';

/** The seed's lock object: one held lock at a time, `lock()` blocks until acquired, `unlock()` releases. */
export class Locker {
  private held?: Lock;
  private taking = false;

  constructor(
    private readonly pipeline: AcquisitionPipeline,
    /** The locker section this object locks on. */
    readonly section: string,
  ) {}

  /** The lock taken by the last `lock()`, until `unlock()`. */
  get current(): Lock | undefined {
    return this.held;
  }

  async lock(key: string, options?: LockOptions): Promise<void> {
    assertOptionsObject(options, 'lock()');
    if (options && 'locker' in options) {
      throw new LockerConfigError({
        section: 'lock()',
        field: 'locker',
        message: `this Locker locks on [${this.section}]; expected no 'locker' option (use create('<section>') for another section)`,
      });
    }
    if (this.held?.held || this.taking) {
      const what = this.taking ? 'is already taking a lock' : `already holds "${this.held?.key}"`;
      throw new LockerError(`This Locker ${what}; call unlock() first, or create() another Locker.`, { key, section: this.section });
    }
    this.taking = true;
    try {
      this.held = (await this.pipeline.take(key, MUTEX, { ...options, locker: this.section }, true, 'lock()')) as Lock;
    } finally {
      this.taking = false;
    }
  }

  /** Idempotent. */
  async unlock(): Promise<void> {
    const lock = this.held;
    this.held = undefined;
    await lock?.release();
  }
}
