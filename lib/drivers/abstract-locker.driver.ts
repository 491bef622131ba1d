import type { LockNamespace } from '../acquisition/lock-kind';
import { HeldLock, HeldLockInit, HeldLockOwner } from '../lock/held-lock';
import type { Lock } from '../interfaces/lock.interface';
import type { AcquireRequest, DriverContext, LockerDriver, LockInspection } from '../interfaces/locker-driver.interface';
import type { LockHolder, LockInfo } from '../interfaces/lock-info.interface';
import { localHolder } from '../inspection/lock-holder';
import type { LockEventSink } from '../interfaces/lock-event.interface';
import { LockerConfigError, LockLostReason } from '../errors';

/** Tracks held locks and wires them to the event sink; drivers implement the server side. */
export abstract class AbstractLockerDriver implements LockerDriver, HeldLockOwner {
  abstract readonly type: string;
  readonly instanceId: string;
  readonly events: LockEventSink;
  private readonly held = new Set<HeldLock>();
  /** Who this process is: recorded with each lock (per process and driver instance, never per lock). */
  readonly holder: LockHolder = localHolder();

  protected constructor(protected readonly context: DriverContext) {
    this.instanceId = context.instanceId;
    this.events = context.events;
  }

  abstract acquire(request: AcquireRequest): Promise<Lock | null>;
  abstract close(): Promise<void>;

  heldLocks(): Lock[] {
    return [...this.held];
  }

  /** The operators' calls on the server (health, inspect, forceRelease, list), for drivers that set it. */
  protected inspection?: LockInspection;

  ping(timeoutMs: number): Promise<void> {
    return this.inspection ? this.inspection.ping(timeoutMs) : Promise.resolve();
  }

  inspect(keyPrefix: string, key: string, namespace: LockNamespace = 'lock'): Promise<LockInfo | null> {
    return this.inspecting('inspect').inspect(keyPrefix, key, namespace);
  }

  forceRelease(keyPrefix: string, key: string, namespace: LockNamespace = 'lock'): Promise<boolean> {
    return this.inspecting('forceRelease').forceRelease(keyPrefix, key, namespace);
  }

  list(keyPrefix: string): Promise<LockInfo[]> {
    return this.inspecting('list').list(keyPrefix);
  }

  private inspecting(what: string): LockInspection {
    if (!this.inspection) {
      throw new LockerConfigError({
        section: this.instanceId,
        field: 'driver',
        message: `the "${this.type}" driver implements no ${what}()`,
      });
    }
    return this.inspection;
  }

  /** Every lock this driver holds (or those `which` picks) is lost at once, for `reason`; returns them. */
  protected loseAll(reason: LockLostReason, detail: string, which: (lock: HeldLock) => boolean = () => true): HeldLock[] {
    const lost = [...this.held].filter(which);
    for (const lock of lost) lock.lose(reason, detail);
    return lost;
  }

  /** Builds the lock object for an acquisition the server granted. */
  protected hold(request: AcquireRequest, granted: Pick<HeldLockInit, 'fencingToken' | 'sentAt' | 'remote' | 'lease'>): HeldLock {
    const lock = new HeldLock({
      key: request.key,
      section: request.section,
      kind: request.kind,
      fencingToken: granted.fencingToken,
      ttl: request.ttl,
      keepAlive: request.keepAlive,
      sentAt: granted.sentAt,
      lease: granted.lease,
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
