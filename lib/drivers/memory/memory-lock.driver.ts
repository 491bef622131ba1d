import { randomUUID } from 'node:crypto';
import { AbstractLockerDriver } from '../abstract-locker.driver';
import { LockKind, LockNamespace, mayHold, namespaceOf } from '../../acquisition/lock-kind';
import type { HeldLock } from '../../lock/held-lock';
import { RenewalBatcher } from '../../lock/renewal-batcher';
import { WaitScope } from '../../lock/wait-scope';
import type { Lock } from '../../interfaces/lock.interface';
import type { LeaderInfo } from '../../interfaces/election.interface';
import type { LockInfo } from '../../interfaces/lock-info.interface';
import type { AcquireRequest, DriverContext, LeaderWatch } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';
import { MemoryLeadership } from './memory-leadership';
import { Entry, lockInfo, queueId } from './memory-queues';

const ALL_KINDS: readonly LockKind[] = ['lock', 'permit', 'read', 'write', 'leader'];

/**
 * Locks in this process's memory: for single-process apps and quick tests. Same semantics as the server
 * drivers (leases expire, keep-alive renews, FIFO grants, growing fencing tokens), every kind, no network:
 * each key has one queue per namespace, and an entry holds once its kind's rule says so (see `mayHold`).
 */
export class MemoryLockDriver extends AbstractLockerDriver {
  readonly type = 'memory';
  readonly kinds = ALL_KINDS;
  /** Per `<namespace> <prefix><key>`: holders and waiters, oldest first. */
  private readonly queues = new Map<string, Entry[]>();
  private readonly fences = new Map<string, bigint>();
  private readonly renewals = new RenewalBatcher(async (locks) => locks.map((lock) => this.renew(lock)));
  private readonly ids = new WeakMap<HeldLock, { id: string; owner: string }>();
  private readonly leadership = new MemoryLeadership();

  constructor(context: DriverContext) {
    super(context);
  }

  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const id = queueId(namespaceOf(request.kind), request.keyPrefix + request.key);
    const scope = new WaitScope(request);
    scope.check();
    const entry: Entry = { owner: randomUUID(), kind: request.kind, limit: request.limit };
    const queue = this.queues.get(id) ?? [];
    queue.push(entry);
    this.queues.set(id, queue);
    this.grantWhatMayHold(id, request.ttl);
    if (entry.granted) return this.handOver(id, entry, request);
    if (!request.wait) {
      this.remove(id, entry.owner);
      return null;
    }
    try {
      while (!entry.granted) {
        await scope.sleep(Infinity, (wake) => {
          entry.wake = wake;
          return () => (entry.wake = undefined);
        });
      }
      return this.handOver(id, entry, request);
    } catch (error) {
      this.remove(id, entry.owner); // gave up: the next in line may hold now
      throw error;
    }
  }

  override async ping(): Promise<void> {}

  override async inspect(keyPrefix: string, key: string, namespace: LockNamespace = 'lock'): Promise<LockInfo | null> {
    return lockInfo(this.queues, this.holder, keyPrefix, queueId(namespace, keyPrefix + key));
  }

  /** Removes every holder of the key; their next renewal is refused. The fence stays. */
  override async forceRelease(keyPrefix: string, key: string, namespace: LockNamespace = 'lock'): Promise<boolean> {
    const id = queueId(namespace, keyPrefix + key);
    const holders = (this.queues.get(id) ?? []).filter((entry) => entry.granted);
    for (const holder of holders) this.remove(id, holder.owner);
    return holders.length > 0;
  }

  override async list(keyPrefix: string): Promise<LockInfo[]> {
    const infos = [...this.queues.keys()]
      .map((id) => lockInfo(this.queues, this.holder, keyPrefix, id))
      .filter((info): info is LockInfo => info !== null);
    return infos.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async proclaim(lock: Lock, value: string | undefined): Promise<boolean> {
    const ref = this.ids.get(lock as HeldLock);
    const entry = ref && this.queues.get(ref.id)?.find((candidate) => candidate.owner === ref.owner);
    if (!ref || !entry?.granted) return false;
    entry.proclaimed = { value };
    this.leadership.changed(ref.id);
    return true;
  }

  async leader(keyPrefix: string, name: string): Promise<LeaderInfo | null> {
    return this.leaderOf(queueId('leader', keyPrefix + name));
  }

  watchLeader(keyPrefix: string, name: string, look: (leader: LeaderInfo | null) => void): LeaderWatch {
    const id = queueId('leader', keyPrefix + name);
    return this.leadership.watch(id, () => look(this.leaderOf(id)));
  }

  async close(): Promise<void> {
    this.leadership.clear();
    this.renewals.stop();
    for (const queue of this.queues.values()) for (const entry of queue) clearTimeout(entry.granted?.timer);
    this.queues.clear();
  }

  protected onSettled(lock: HeldLock): void {
    this.renewals.untrack(lock);
  }

  protected override onExtended(lock: HeldLock): void {
    if (lock.keepAlive) this.renewals.track(lock);
  }

  /** An election's leader: the holder of its queue, once it proclaimed. */
  private leaderOf(id: string): LeaderInfo | null {
    const head = this.queues.get(id)?.[0];
    if (!head?.granted || !head.proclaimed) return null;
    const { value } = head.proclaimed;
    return { ...this.holder, term: head.granted.fencingToken, ...(value !== undefined && { value }) };
  }

  /** Grants, in queue order, every waiting entry whose kind's rule lets it hold now, and wakes it. */
  private grantWhatMayHold(id: string, ttl: number): void {
    const queue = this.queues.get(id);
    if (!queue) return;
    for (let index = 0; index < queue.length; index++) {
      const entry = queue[index];
      if (entry.granted) continue;
      if (!mayHold(queue, index)) return; // holders are a prefix: no one later may hold either
      const fencingToken = (this.fences.get(id) ?? 0n) + 1n;
      this.fences.set(id, fencingToken);
      entry.granted = { fencingToken, expiresAt: monotonicNow() + ttl, timer: this.expireAfter(id, entry.owner, ttl) };
      entry.wake?.();
      this.leadership.changed(id);
    }
  }

  private handOver(id: string, entry: Entry, request: AcquireRequest): HeldLock {
    const granted = entry.granted!;
    // granted with the TTL of whoever's release let it in: its own lease starts now
    this.touch(id, entry.owner, request.ttl);
    const lock = this.hold(request, {
      fencingToken: granted.fencingToken,
      sentAt: monotonicNow(),
      remote: {
        release: async () => this.remove(id, entry.owner),
        extend: async (ttl) => this.touch(id, entry.owner, ttl),
      },
    });
    this.ids.set(lock, { id, owner: entry.owner });
    if (request.keepAlive) this.renewals.track(lock);
    return lock;
  }

  private renew(lock: HeldLock): boolean {
    const ref = this.ids.get(lock);
    return ref !== undefined && this.touch(ref.id, ref.owner, lock.ttl);
  }

  private touch(id: string, owner: string, ttl: number): boolean {
    const granted = this.queues.get(id)?.find((entry) => entry.owner === owner)?.granted;
    if (!granted) return false;
    clearTimeout(granted.timer);
    granted.timer = this.expireAfter(id, owner, ttl);
    granted.expiresAt = monotonicNow() + ttl;
    return true;
  }

  private expireAfter(id: string, owner: string, ttl: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.remove(id, owner), ttl);
    timer.unref();
    return timer;
  }

  /** Takes the entry out of its queue (released, expired, force-released, or a waiter that gave up). */
  private remove(id: string, owner: string): void {
    const queue = this.queues.get(id);
    const index = queue?.findIndex((entry) => entry.owner === owner) ?? -1;
    if (!queue || index < 0) return;
    clearTimeout(queue[index].granted?.timer);
    const wasHolder = queue[index].granted !== undefined;
    queue.splice(index, 1);
    if (wasHolder) this.leadership.changed(id);
    if (queue.length === 0) this.queues.delete(id);
    // what the next holder's lease is until it is handed over (handOver() gives it its own TTL)
    else this.grantWhatMayHold(id, GRANT_LEASE_MS);
  }
}

/** The lease a grant starts with until its waiter takes it (at once, in this process). */
const GRANT_LEASE_MS = 60_000;
