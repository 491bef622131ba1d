import { randomUUID } from 'node:crypto';
import { AbstractLockerDriver } from '../abstract-locker.driver';
import type { HeldLock } from '../../lock/held-lock';
import { RenewalBatcher } from '../../lock/renewal-batcher';
import { WaitScope } from '../../lock/wait-scope';
import type { Lock } from '../../interfaces/lock.interface';
import type { LockInfo } from '../../interfaces/lock-info.interface';
import type { AcquireRequest, DriverContext } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';

interface Entry {
  owner: string;
  timer: NodeJS.Timeout;
  /** Monotonic time the lease runs out. */
  expiresAt: number;
  fencingToken: bigint;
}

interface Waiter {
  wake?: () => void;
}

/**
 * Locks in this process's memory: for single-process apps and quick tests. Same semantics as the
 * server drivers (leases expire, keep-alive renews, FIFO handoff, growing fencing tokens), no network.
 */
export class MemoryLockDriver extends AbstractLockerDriver {
  readonly type = 'memory';
  private readonly entries = new Map<string, Entry>();
  private readonly queues = new Map<string, Waiter[]>();
  private readonly fences = new Map<string, bigint>();
  private readonly renewals = new RenewalBatcher(async (locks) => locks.map((lock) => this.renew(lock)));
  private readonly ids = new WeakMap<HeldLock, { id: string; owner: string }>();

  constructor(context: DriverContext) {
    super(context);
  }

  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const id = request.keyPrefix + request.key;
    const scope = new WaitScope(request);
    scope.check();
    const queue = this.queues.get(id) ?? [];
    if (!this.entries.has(id) && queue.length === 0) return this.take(id, request);
    if (!request.wait) return null;

    const waiter: Waiter = {};
    queue.push(waiter);
    this.queues.set(id, queue);
    try {
      for (;;) {
        await scope.sleep(Infinity, (wake) => {
          waiter.wake = wake;
          return () => (waiter.wake = undefined);
        });
        if (!this.entries.has(id) && queue[0] === waiter) return this.take(id, request);
      }
    } finally {
      queue.splice(queue.indexOf(waiter), 1);
      if (queue.length === 0) this.queues.delete(id);
      else if (!this.entries.has(id)) queue[0].wake?.();
    }
  }

  override async ping(): Promise<void> {}

  override async inspect(keyPrefix: string, key: string): Promise<LockInfo | null> {
    return this.info(keyPrefix, keyPrefix + key);
  }

  /** Removes the entry whoever holds it; the holder's next renewal is refused. The fence stays. */
  override async forceRelease(keyPrefix: string, key: string): Promise<boolean> {
    const entry = this.entries.get(keyPrefix + key);
    if (entry) this.delete(keyPrefix + key, entry.owner);
    return entry !== undefined;
  }

  override async list(keyPrefix: string): Promise<LockInfo[]> {
    const ids = [...this.entries.keys()].filter((id) => id.startsWith(keyPrefix)).sort();
    return ids.map((id) => this.info(keyPrefix, id) as LockInfo);
  }

  private info(keyPrefix: string, id: string): LockInfo | null {
    const entry = this.entries.get(id);
    if (!entry) return null;
    const waiting = this.queues.get(id)?.length ?? 0;
    const ttlLeftMs = Math.max(0, Math.round(entry.expiresAt - monotonicNow()));
    return { key: id.slice(keyPrefix.length), fencingToken: entry.fencingToken, ttlLeftMs, holder: this.holder, waiting };
  }

  async close(): Promise<void> {
    this.renewals.stop();
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
  }

  protected onSettled(lock: HeldLock): void {
    this.renewals.untrack(lock);
  }

  protected override onExtended(lock: HeldLock): void {
    if (lock.keepAlive) this.renewals.track(lock);
  }

  private take(id: string, request: AcquireRequest): HeldLock {
    const owner = randomUUID();
    const fencingToken = (this.fences.get(id) ?? 0n) + 1n;
    this.fences.set(id, fencingToken);
    this.entries.set(id, { owner, timer: this.expireAfter(id, owner, request.ttl), expiresAt: monotonicNow() + request.ttl, fencingToken });
    const lock = this.hold(request, {
      fencingToken,
      sentAt: monotonicNow(),
      remote: {
        release: async () => this.delete(id, owner),
        extend: async (ttl) => this.touch(id, owner, ttl),
      },
    });
    this.ids.set(lock, { id, owner });
    if (request.keepAlive) this.renewals.track(lock);
    return lock;
  }

  private renew(lock: HeldLock): boolean {
    const ref = this.ids.get(lock);
    return ref !== undefined && this.touch(ref.id, ref.owner, lock.ttl);
  }

  private touch(id: string, owner: string, ttl: number): boolean {
    const entry = this.entries.get(id);
    if (entry?.owner !== owner) return false;
    clearTimeout(entry.timer);
    entry.timer = this.expireAfter(id, owner, ttl);
    entry.expiresAt = monotonicNow() + ttl;
    return true;
  }

  private expireAfter(id: string, owner: string, ttl: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.delete(id, owner), ttl);
    timer.unref();
    return timer;
  }

  private delete(id: string, owner: string): void {
    const entry = this.entries.get(id);
    if (entry?.owner !== owner) return;
    clearTimeout(entry.timer);
    this.entries.delete(id);
    this.queues.get(id)?.[0]?.wake?.();
  }
}
