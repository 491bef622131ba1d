import type { Etcd3 } from 'etcd3';
import { AbstractLockerDriver } from '../abstract-locker.driver';
import { LockKind, namespaceOf, QueuedSpec } from '../../acquisition/lock-kind';
import type { HeldLock } from '../../lock/held-lock';
import { LocalWaitQueues, Turn } from '../../lock/local-wait-queues';
import { WaitScope } from '../../lock/wait-scope';
import type { Lock } from '../../interfaces/lock.interface';
import { etcdEntryValue } from '../../inspection/lock-holder';
import type { LeaderInfo } from '../../interfaces/election.interface';
import type { AcquireRequest, DriverContext, LeaderWatch } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';
import { settleWithin } from '../../utils/settle-within';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './etcd-call-deadline';
import { EtcdDeleteWatches } from './etcd-delete-watches';
import { EntriesAhead } from './etcd-entries-ahead';
import { EtcdInspection } from './etcd-inspection';
import { EtcdLeaseSession } from './etcd-lease-session';
import { EtcdLeadership } from './etcd-leadership';
import { EtcdLockRemote } from './etcd-lock-remote';
import { EtcdQueue } from './etcd-queue';
import { QueueEntry, QueuePositionLost } from './etcd-queue-entry';
import { etcdLockPrefix, mayHoldBehind } from './etcd-entry-names';
import { endWatchStream } from './etcd-watch-stream';
import { EtcdRefusals } from './etcd-permission-error';
import { probeEtcdPermissions } from './etcd-permission-probe';
import { quietContext } from '../permission-probe';

/** A waiter re-reads its predecessor this often even without a delete seen (the watch may be down). */
const WATCHLESS_RECHECK_MS = 1_000;

/** Shutdown waits this long at most for etcd to revoke the driver's leases. */
const CLOSE_REVOKE_WAIT_MS = 2_000;

/** Pause before the n-th retry (from 1) of a loop that talks to etcd: at once, then doubling up to 1 s. */
const retryPause = (retry: number): number => (retry <= 1 ? 0 : Math.min(1_000, 25 * 2 ** (retry - 2)));

/**
 * etcd locks the way etcd's concurrency.Mutex takes them: every contender writes a unique key under the
 * lock's prefix, and entries are served in create-revision order (FIFO). An entry holds when its kind's
 * rule lets it behind the entries ahead (a mutex: none ahead, the lowest revision; a permit: fewer than its
 * limit; a reader: no writer), and its create revision is its fencing token. In one process only the first
 * waiter per key has an entry; it sleeps on one delete watch over the prefix and looks again when woken.
 */
export class EtcdLockDriver extends AbstractLockerDriver {
  readonly type = 'etcd';
  readonly kinds: readonly LockKind[] = ['lock', 'permit', 'read', 'write', 'leader'];
  private readonly sessions = new Map<number, EtcdLeaseSession>();
  /** Local waiters per lock prefix; their first is woken by a watch on deletes under the prefix. */
  private readonly queues = new LocalWaitQueues((lockPrefix) => this.deleteWatches.watch(lockPrefix));
  private readonly deleteWatches: EtcdDeleteWatches;
  /** Per lock prefix, the entries ahead of the local first waiter's, which it waits to see deleted. */
  private readonly following = new Map<string, EntriesAhead>();
  /** The entries in etcd; every entry's value says who holds it, one string for all the driver's locks. */
  private readonly entries: EtcdQueue;
  private readonly leadership: EtcdLeadership;

  constructor(
    private readonly client: Etcd3,
    context: DriverContext,
    private readonly ownsClient = true,
    /** How long a keep-alive waits for its answer (unary calls get their deadline from the client). */
    private readonly commandTimeout = DEFAULT_COMMAND_TIMEOUT_MS,
    /** @internal etcd's permission denials, as errors that say what to grant (a probe's copy shares its driver's). */
    readonly refusals = new EtcdRefusals(context.instanceId, ownsClient),
  ) {
    super(context);
    this.inspection = new EtcdInspection(client);
    this.deleteWatches = new EtcdDeleteWatches(client, (lockPrefix, deletedName) => {
      const ahead = this.following.get(lockPrefix);
      // the first waiter looks only when it may be first now (or its entry, or the watch, went away)
      if (!ahead || ahead.deleted(deletedName)) this.queues.wakeHead(lockPrefix);
    });
    this.entries = new EtcdQueue(client, etcdEntryValue(this.holder));
    this.leadership = new EtcdLeadership(client, this.holder);
  }

  /** Elections: see EtcdLeadership. */
  proclaim(lock: Lock, value: string | undefined): Promise<boolean> {
    return this.leadership.proclaim(lock as HeldLock, value);
  }

  leader(keyPrefix: string, name: string): Promise<LeaderInfo | null> {
    return this.leadership.leader(keyPrefix, name);
  }

  watchLeader(keyPrefix: string, name: string, look: (leader: LeaderInfo | null) => void): LeaderWatch {
    return this.leadership.watch(keyPrefix, name, look);
  }

  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const scope = new WaitScope(request);
    scope.check();
    const lockPrefix = etcdLockPrefix(request.keyPrefix, request.key, namespaceOf(request.kind));
    const explain = (error: unknown): never => {
      throw this.refusals.explain(error, request.keyPrefix);
    };
    if (!request.wait) return this.takeInEtcd(lockPrefix, request, scope).catch(explain);
    // Local waiters queue here: only the first has an entry in etcd, whatever their number.
    return this.queues
      .take(lockPrefix, scope, async (turn) => (await this.takeInEtcd(lockPrefix, request, scope, turn)) as Lock)
      .catch(explain);
  }

  /** LockerDriver.probe, on a copy of this driver (see probeEtcdPermissions). */
  probe(keyPrefix: string): Promise<void> {
    const copy = new EtcdLockDriver(this.client, quietContext(this.instanceId), false, this.commandTimeout, this.refusals);
    return probeEtcdPermissions({ copy, client: this.client, refusals: this.refusals, commandTimeout: this.commandTimeout }, keyPrefix);
  }

  /**
   * Enqueues in etcd and, with a turn to wait in, waits for the entries ahead to go; else gives up at once.
   * A lost place (the entry's lease gone) is taken again, after a pause that grows, within the wait's
   * deadline and abort.
   */
  private async takeInEtcd(lockPrefix: string, request: AcquireRequest, scope: WaitScope, turn?: Turn): Promise<Lock | null> {
    for (let retry = 0; ; retry++) {
      if (retry > 0) await scope.sleep(retryPause(retry));
      const sentAt = monotonicNow();
      const spec: QueuedSpec = { kind: request.kind, limit: request.limit };
      const namespace = namespaceOf(request.kind);
      let ahead: EntriesAhead | undefined;
      const follow = (name: string): EntriesAhead => {
        ahead = new EntriesAhead(
          name,
          () => this.deleteWatches.epoch(lockPrefix),
          (names) => mayHoldBehind(names, spec, namespace),
        );
        // only the local first waiter (with a turn) has an entry to follow; one attempt reads once
        if (turn) this.following.set(lockPrefix, ahead);
        return ahead;
      };
      try {
        let entry: QueueEntry;
        try {
          request.asking?.();
          entry = await this.entries.enqueue(
            lockPrefix,
            spec,
            request.ttl,
            request.keepAlive ? this.session(request.ttl) : undefined,
            follow,
          );
        } catch (error) {
          if (error instanceof QueuePositionLost) continue;
          throw error;
        }
        request.answered?.();
        try {
          if (await this.mayHold(entry, ahead as EntriesAhead, request, turn)) return await this.grant(entry, request, sentAt);
        } catch (error) {
          await this.entries.dequeue(entry).catch(() => undefined); // the original error matters more
          if (error instanceof QueuePositionLost) continue;
          throw error;
        }
        await this.entries.dequeue(entry);
        return null;
      } finally {
        if (ahead && this.following.get(lockPrefix) === ahead) this.following.delete(lockPrefix);
      }
    }
  }

  async close(): Promise<void> {
    this.entries.closed = true;
    this.leadership.close();
    this.queues.closeLingering();
    this.deleteWatches.close();
    const sessions = [...this.sessions.values()];
    for (const session of sessions) session.retire();
    // Revoked before the client closes, or each lease would outlive the app by its TTL (60 s by default);
    // a member that hangs without answering must not hold up shutdown.
    await settleWithin(Promise.all(sessions.map((session) => session.firstRevoke)), CLOSE_REVOKE_WAIT_MS);
    if (this.ownsClient) {
      this.client.close();
      endWatchStream(this.client);
    }
  }

  protected onSettled(lock: HeldLock): void {
    const entry = (lock.remote as EtcdLockRemote).entry;
    entry?.session?.detach(lock);
    // A holder that missed its deadline cannot trust the shared lease any more.
    if (lock.lostReason?.reason === 'deadline') entry?.session?.retire();
  }

  private session(ttl: number): EtcdLeaseSession {
    let session = this.sessions.get(ttl);
    if (!session?.alive) {
      const onRetire = (retired: EtcdLeaseSession) => {
        if (this.sessions.get(ttl) === retired) this.sessions.delete(ttl);
      };
      session = new EtcdLeaseSession(this.client, ttl, onRetire, this.commandTimeout);
      this.sessions.set(ttl, session);
    }
    return session;
  }

  /**
   * True once the entries with a lower create revision let ours hold (the kind's rule: for a mutex, none is
   * left); with a turn, waits for their deletes. What the enqueue or a read listed ahead is followed through
   * the delete watch, so the deletes alone let us hold, with no read after them; the queue is read again
   * only when the watch may have missed a delete (not live at the read, or a gap since), and once a second
   * without a delete seen.
   */
  private async mayHold(entry: QueueEntry, ahead: EntriesAhead, request: AcquireRequest, turn?: Turn): Promise<boolean> {
    let justRead = ahead.known; // the enqueue listed the queue
    for (;;) {
      turn?.attempting();
      const trusted =
        !ahead.ownDeleted && (justRead || (ahead.followed && (ahead.mayHold || monotonicNow() - ahead.readAt < WATCHLESS_RECHECK_MS)));
      if (!trusted) {
        request.asking?.();
        await this.entries.readAhead(entry, ahead);
        request.answered?.();
      }
      justRead = false;
      if (ahead.mayHold) return true;
      if (!turn) return false;
      if (!entry.session) await this.moveToWaitingSession(entry, request.ttl);
      await turn.sleep(WATCHLESS_RECHECK_MS);
    }
  }

  /** A waiting fixed-TTL entry must not expire in the queue: it waits on a kept-alive lease. */
  private async moveToWaitingSession(entry: QueueEntry, ttl: number): Promise<void> {
    const session = this.session(ttl);
    const unpin = session.addWaiter();
    if (!(await this.entries.moveEntry(entry, { session, leaseId: await session.leaseId }))) {
      unpin();
      throw new QueuePositionLost();
    }
    entry.unpin = unpin;
  }

  /** The entry is first: for a fixed-TTL lock that waited, its own lease starts now. */
  private async grant(entry: QueueEntry, request: AcquireRequest, sentAt: number): Promise<HeldLock> {
    if (!request.keepAlive && entry.session) {
      sentAt = monotonicNow();
      if (!(await this.entries.moveEntry(entry, { leaseId: await this.entries.grantFixedLease(request.ttl) })))
        throw new QueuePositionLost();
    }
    const remote = new EtcdLockRemote(this, this.entries, entry);
    const lock = this.hold(request, {
      fencingToken: BigInt(entry.revision),
      // A shared lease is as fresh as its last confirmed keep-alive, however long we queued.
      sentAt: entry.session ? entry.session.confirmedSentAt : sentAt,
      remote,
    });
    remote.lock = lock;
    entry.session?.attach(lock, entry);
    entry.unpin?.();
    entry.unpin = undefined;
    return lock;
  }

  /** @internal for EtcdLockRemote. */
  async extend(lock: HeldLock, entry: QueueEntry, ttl: number): Promise<boolean> {
    if (!lock.keepAlive) {
      // keep-alive stopped (a minHold left to expire at shutdown): the entry leaves its shared lease for a fixed one
      const previous = entry.session;
      const moved = await this.entries.moveEntry(entry, { leaseId: await this.entries.grantFixedLease(ttl) });
      if (moved) previous?.detach(lock);
      return moved;
    }
    for (let retry = 0; ; retry++) {
      const session = this.session(ttl);
      const previous = entry.session;
      try {
        if (!(await this.entries.moveEntry(entry, { session, leaseId: await session.leaseId }))) return false;
      } catch (error) {
        // The target session's lease was gone (and the session retired): once more on a fresh one.
        if (error instanceof QueuePositionLost && retry === 0) continue;
        throw error;
      }
      if (previous !== session) {
        previous?.detach(lock);
        session.attach(lock, entry);
      }
      return session.keepAliveNow();
    }
  }
}
