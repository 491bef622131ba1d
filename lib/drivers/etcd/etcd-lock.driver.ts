import { randomBytes } from 'node:crypto';
import type { Etcd3, IKeyValue } from 'etcd3';
import { AbstractLockerDriver } from '../abstract-locker.driver';
import type { HeldLock, LockRemote } from '../../lock/held-lock';
import { LocalWaitQueues, QueueResource, Turn } from '../../lock/local-wait-queues';
import { WaitScope } from '../../lock/wait-scope';
import type { Lock } from '../../interfaces/lock.interface';
import { etcdEntryValue } from '../../inspection/lock-holder';
import type { AcquireRequest, DriverContext } from '../../interfaces/locker-driver.interface';
import { monotonicNow } from '../../utils/clock';
import { settleWithin } from '../../utils/settle-within';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './etcd-call-deadline';
import { EtcdInspection } from './etcd-inspection';
import { LastingWatch } from './etcd-lasting-watch';
import { EtcdLeaseSession, leaseGone } from './etcd-lease-session';

/**
 * Lock entries are `<prefix><URI-encoded key>/<hex>`; a NUL-led name is never one. The keeper sits under a
 * lock's prefix, so a user whose role covers only the key prefix may watch it; it is never written.
 */
const WATCH_STREAM_KEEPER = '\0watch-stream-keeper';

/** A waiter re-reads its predecessor this often even without a delete seen (the watch may be down). */
const WATCHLESS_RECHECK_MS = 1_000;

/** Shutdown waits this long at most for etcd to revoke the driver's leases. */
const CLOSE_REVOKE_WAIT_MS = 2_000;

/** A delete etcd did not confirm is sent again this many times in the background, 0.2 s to 3.2 s apart. */
const DELETE_RETRIES = 5;

/** Pause before the n-th retry (from 1) of a loop that talks to etcd: at once, then doubling up to 1 s. */
const retryPause = (retry: number): number => (retry <= 1 ? 0 : Math.min(1_000, 25 * 2 ** (retry - 2)));

/** One queued or held entry: `<prefix><escaped key>/<random id>`, ordered by create revision. */
interface QueueEntry {
  lockPrefix: string;
  name: string;
  revision: string;
  /** The keep-alive session whose lease carries the entry, or the lock's own fixed lease. */
  session?: EtcdLeaseSession;
  fixedLeaseId?: string;
  /** Keeps the session from retiring as idle while the entry waits on it (a held lock is attached instead). */
  unpin?: () => void;
}

/**
 * etcd locks the way etcd's concurrency.Mutex takes them: every contender writes a unique key under the
 * lock's prefix; the lowest create revision holds the lock (and is its fencing token), so entries are
 * served in order (FIFO). In one process only the first waiter per key has an entry; it sleeps on one
 * delete watch over the prefix and reads its predecessor when woken.
 */
export class EtcdLockDriver extends AbstractLockerDriver {
  readonly type = 'etcd';
  private readonly sessions = new Map<number, EtcdLeaseSession>();
  /** Local waiters per lock prefix; their first is woken by a watch on deletes under the prefix. */
  private readonly queues = new LocalWaitQueues((lockPrefix) => this.watchDeletes(lockPrefix));
  private streamKeeper?: LastingWatch;
  private closed = false;
  /** Every entry's value: who holds it, one string for all the driver's locks. */
  private readonly entryValue = etcdEntryValue(this.holder);

  constructor(
    private readonly client: Etcd3,
    context: DriverContext,
    private readonly ownsClient = true,
    /** How long a keep-alive waits for its answer (unary calls get their deadline from the client). */
    private readonly commandTimeout = DEFAULT_COMMAND_TIMEOUT_MS,
  ) {
    super(context);
    this.inspection = new EtcdInspection(client);
  }

  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const scope = new WaitScope(request);
    scope.check();
    const lockPrefix = `${request.keyPrefix}${encodeURIComponent(request.key)}/`;
    if (!request.wait) return this.takeInEtcd(lockPrefix, request, scope);
    // Local waiters queue here: only the first has an entry in etcd, whatever their number.
    return this.queues.take(lockPrefix, scope, async (turn) => (await this.takeInEtcd(lockPrefix, request, scope, turn)) as Lock);
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
      let entry: QueueEntry;
      let first: boolean;
      try {
        ({ entry, first } = await this.enqueue(lockPrefix, request));
      } catch (error) {
        if (error instanceof QueuePositionLost) continue;
        throw error;
      }
      try {
        if (first || (await this.isFirst(entry, request, turn))) return await this.grant(entry, request, sentAt);
      } catch (error) {
        await this.dequeue(entry).catch(() => undefined); // the original error matters more
        if (error instanceof QueuePositionLost) continue;
        throw error;
      }
      await this.dequeue(entry);
      return null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.streamKeeper?.close();
    const sessions = [...this.sessions.values()];
    for (const session of sessions) session.retire();
    // Revoked before the client closes, or each lease would outlive the app by its TTL (60 s by default);
    // a member that hangs without answering must not hold up shutdown.
    await settleWithin(Promise.all(sessions.map((session) => session.firstRevoke)), CLOSE_REVOKE_WAIT_MS);
    if (this.ownsClient) this.client.close();
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
   * Writes our unique entry and, in the same txn, counts the entries: every other one is older, so when
   * ours is the only one the lock is taken in one round trip. (A count reads etcd's index only; a sorted
   * read would fetch every entry.) A fixed-TTL lock gets a lease of its own that is never kept alive.
   */
  private async enqueue(lockPrefix: string, request: AcquireRequest): Promise<{ entry: QueueEntry; first: boolean }> {
    const name = lockPrefix + randomBytes(8).toString('hex');
    const session = request.keepAlive ? this.session(request.ttl) : undefined;
    const unpin = session?.addWaiter();
    let leaseId: string | undefined;
    try {
      leaseId = session ? await session.leaseId : await this.grantFixedLease(request.ttl);
      const put = this.client.put(name).value(this.entryValue).lease(leaseId);
      const entries = this.client.getAll().prefix(lockPrefix).limit(1);
      // The name is ours alone: if it exists, etcd3 resent this txn after etcd had applied it (a member
      // died before answering), and the entry written then is ours; never leave it behind as an orphan.
      const written = this.client.get(name);
      const response = await this.client.if(name, 'Create', '==', 0).then(put, entries).else(written).commit();
      const revision = response.succeeded ? response.header.revision : response.responses[0]?.response_range?.kvs[0]?.create_revision;
      if (revision === undefined) throw new QueuePositionLost(); // written, then gone with its lease: enqueue again
      const entry = { lockPrefix, name, revision, session, fixedLeaseId: session ? undefined : leaseId, unpin };
      return { entry, first: response.succeeded && response.responses[1]?.response_range?.count === '1' };
    } catch (error) {
      unpin?.();
      if (error instanceof QueuePositionLost) throw error;
      // The session's lease went away (revoked, or expired while etcd or this process was away): the
      // session is retired, or it would be handed out again, and the next try takes a fresh lease.
      if (leaseGone(error)) {
        session?.retire();
        throw new QueuePositionLost();
      }
      // No answer (a timeout): etcd may have written the entry, which would then wait in the queue on a
      // kept-alive lease for ever, ahead of everyone. The name is ours alone: delete it by name.
      if (session) this.deleteInBackground(() => this.client.delete().key(name).exec(), session);
      else if (leaseId) void this.revokeLease(leaseId);
      throw error;
    }
  }

  /** True once no entry with a lower create revision is left; with a turn, waits for deletes under the prefix. */
  private async isFirst(entry: QueueEntry, request: AcquireRequest, turn?: Turn): Promise<boolean> {
    for (;;) {
      turn?.attempting();
      if (!(await this.predecessor(entry))) return true;
      if (!turn) return false;
      if (!entry.session) await this.moveToWaitingSession(entry, request.ttl);
      await turn.sleep(WATCHLESS_RECHECK_MS);
    }
  }

  /** The entry right before ours, read in one txn that also proves our entry still exists. */
  private async predecessor(entry: QueueEntry): Promise<string | undefined> {
    const before = this.client
      .getAll()
      .prefix(entry.lockPrefix)
      .maxCreateRevision(String(BigInt(entry.revision) - 1n))
      .sort('Create', 'Descend')
      .limit(1);
    const response = await this.client.if(entry.name, 'Create', '==', entry.revision).then(before).commit();
    if (!response.succeeded) throw new QueuePositionLost();
    const kv = response.responses[0].response_range?.kvs[0] as IKeyValue | undefined;
    return kv?.key.toString();
  }

  /** A waiting fixed-TTL entry must not expire in the queue: it waits on a kept-alive lease. */
  private async moveToWaitingSession(entry: QueueEntry, ttl: number): Promise<void> {
    const session = this.session(ttl);
    const unpin = session.addWaiter();
    if (!(await this.moveEntry(entry, { session, leaseId: await session.leaseId }))) {
      unpin();
      throw new QueuePositionLost();
    }
    entry.unpin = unpin;
  }

  /**
   * Wakes the first local waiter on every delete under the prefix. The watch starts at the current
   * revision (a past start revision would leave it to etcd's 100 ms catch-up loop); the waiter reads
   * its predecessor only once the watch exists, so no delete falls between the two.
   */
  private watchDeletes(lockPrefix: string): QueueResource {
    this.keepWatchStreamOpen(lockPrefix);
    const watch = new LastingWatch(
      () => this.client.watch().prefix(lockPrefix).only('delete'),
      () => this.queues.wakeHead(lockPrefix),
    );
    return { ready: watch.ready, close: () => watch.close() };
  }

  /**
   * etcd3 closes its watch stream when its last watcher goes, and opening one again costs milliseconds
   * on every wait; one idle watcher on a key no lock uses keeps the stream open.
   */
  private keepWatchStreamOpen(lockPrefix: string): void {
    this.streamKeeper ??= new LastingWatch(
      () => this.client.watch().key(lockPrefix + WATCH_STREAM_KEEPER),
      () => undefined,
    );
  }

  /** The entry is first: for a fixed-TTL lock that waited, its own lease starts now. */
  private async grant(entry: QueueEntry, request: AcquireRequest, sentAt: number): Promise<HeldLock> {
    if (!request.keepAlive && entry.session) {
      sentAt = monotonicNow();
      if (!(await this.moveEntry(entry, { leaseId: await this.grantFixedLease(request.ttl) }))) throw new QueuePositionLost();
    }
    const remote = new EtcdLockRemote(this, entry);
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
      const moved = await this.moveEntry(entry, { leaseId: await this.grantFixedLease(ttl) });
      if (moved) previous?.detach(lock);
      return moved;
    }
    for (let retry = 0; ; retry++) {
      const session = this.session(ttl);
      const previous = entry.session;
      try {
        if (!(await this.moveEntry(entry, { session, leaseId: await session.leaseId }))) return false;
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

  /**
   * Puts the entry on another lease (a session's, or a fixed one of its own); the create revision, our
   * place and fencing token, stays. A fixed lease left behind is revoked. False if the entry is gone.
   */
  private async moveEntry(entry: QueueEntry, target: { leaseId: string; session?: EtcdLeaseSession }): Promise<boolean> {
    const put = this.client.put(entry.name).value(this.entryValue).lease(target.leaseId);
    const response = await this.client
      .if(entry.name, 'Create', '==', entry.revision)
      .then(put)
      .commit()
      .catch((error: unknown) => {
        if (!leaseGone(error)) throw error;
        target.session?.retire();
        throw new QueuePositionLost();
      });
    const abandoned = response.succeeded ? entry.fixedLeaseId : target.session ? undefined : target.leaseId;
    if (response.succeeded) {
      entry.session = target.session;
      entry.fixedLeaseId = target.session ? undefined : target.leaseId;
    }
    if (abandoned && abandoned !== entry.fixedLeaseId) void this.revokeLease(abandoned);
    return response.succeeded;
  }

  /**
   * Removes our entry (owner-checked by its unique name and revision) and its own lease, if any. A delete
   * etcd did not confirm (a timeout, an election) is sent again in the background; the shared lease
   * carrying the entry (and every other lock on it) is retired only if etcd cannot be told for that long.
   * @internal for EtcdLockRemote.
   */
  async dequeue(entry: QueueEntry): Promise<void> {
    entry.unpin?.();
    entry.unpin = undefined;
    if (entry.fixedLeaseId) return this.revokeLease(entry.fixedLeaseId);
    try {
      await this.deleteEntry(entry);
    } catch (error) {
      this.deleteInBackground(() => this.deleteEntry(entry), entry.session);
      throw error;
    }
  }

  private deleteEntry(entry: QueueEntry): Promise<unknown> {
    return this.client.if(entry.name, 'Create', '==', entry.revision).then(this.client.delete().key(entry.name)).commit();
  }

  /** Tries a delete of an entry on `session`'s lease again, a few times; if etcd never confirms it, retires the lease. */
  private deleteInBackground(remove: () => Promise<unknown>, session: EtcdLeaseSession | undefined, retry = 1): void {
    const again = async () => {
      // a retired session's revoke takes the entry with it
      if (this.closed || !session?.alive) return;
      try {
        await remove();
      } catch {
        if (retry < DELETE_RETRIES) this.deleteInBackground(remove, session, retry + 1);
        else session.retire();
      }
    };
    setTimeout(() => void again(), 200 * 2 ** (retry - 1)).unref();
  }

  private async grantFixedLease(ttl: number): Promise<string> {
    const granted = await this.client.leaseClient.leaseGrant({ TTL: Math.ceil(ttl / 1000) });
    return String(granted.ID);
  }

  private async revokeLease(ID: string): Promise<void> {
    await this.client.leaseClient.leaseRevoke({ ID }).catch(() => undefined);
  }
}

/** The server side of one held lock: its queue entry (there may be thousands, so no closures). */
class EtcdLockRemote implements LockRemote {
  constructor(
    private readonly driver: EtcdLockDriver,
    readonly entry: QueueEntry,
  ) {}

  release(): Promise<void> {
    return this.driver.dequeue(this.entry);
  }

  /** Set once the lock exists (the lock is built around this remote). */
  lock?: HeldLock;

  extend(ttl: number): Promise<boolean> {
    return this.driver.extend(this.lock as HeldLock, this.entry, ttl);
  }
}

/** Our queue entry vanished (its lease expired while etcd was away): enqueue again. */
class QueuePositionLost extends Error {}
