import { HeldLock, HeldLockInit, HeldLockOwner } from '../lock/held-lock';
import type { Lock } from '../interfaces/lock.interface';
import type { AcquireRequest, DriverContext, LockerDriver } from '../interfaces/locker-driver.interface';
import type { LockEventSink } from '../interfaces/lock-event.interface';
import type { LockLostReason } from '../errors';

/** Tracks held locks and wires them to the event sink; drivers implement the server side. */
export abstract class AbstractLockerDriver implements LockerDriver, HeldLockOwner {
  abstract readonly type: string;
  readonly instanceId: string;
  readonly events: LockEventSink;
  private readonly held = new Set<HeldLock>();

  protected constructor(protected readonly context: DriverContext) {
    this.instanceId = context.instanceId;
    this.events = context.events;
  }

  abstract acquire(request: AcquireRequest): Promise<Lock | null>;
  abstract close(): Promise<void>;

  heldLocks(): Lock[] {
    return [...this.held];
  }

  /** Every lock this driver holds (or those `which` picks) is lost at once, for `reason`; returns them. */
  protected loseAll(reason: LockLostReason, detail: string, which: (lock: HeldLock) => boolean = () => true): HeldLock[] {
    const lost = [...this.held].filter(which);
    for (const lock of lost) lock.lose(reason, detail);
    return lost;
  }

  /** Builds the lock object for an acquisition the server granted. */
  protected hold(request: AcquireRequest, granted: Pick<HeldLockInit, 'fencingToken' | 'sentAt' | 'remote'>): HeldLock {
    const lock = new HeldLock({
      key: request.key,
      section: request.section,
      fencingToken: granted.fencingToken,
      ttl: request.ttl,
      keepAlive: request.keepAlive,
      sentAt: granted.sentAt,
      remote: granted.remote,
      owner: this,
    });
    this.held.add(lock);
    return lock;
  }

  /** HeldLockOwner: the lock was released or lost. */
  lockSettled(lock: HeldLock): void {
    this.held.delete(lock);
    this.onSettled(lock);
  }

  /** HeldLockOwner: the lock's TTL changed. */
  lockExtended(lock: HeldLock): void {
    this.onExtended(lock);
  }

  /** Stop keep-alive and other per-lock work. */
  protected abstract onSettled(lock: HeldLock): void;

  /** The lock's TTL may have changed: keep-alive follows. */
  protected onExtended(_lock: HeldLock): void {}
}
