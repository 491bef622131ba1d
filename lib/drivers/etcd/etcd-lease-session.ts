import type { Etcd3 } from 'etcd3';
import type { HeldLock } from '../../lock/held-lock';
import { monotonicNow } from '../../utils/clock';

/** A session idle this long (no holder, no waiter) revokes its lease. */
const IDLE_REVOKE_MS = 60_000;

/** Keys missing from the lease's list are read back this many at a time before their locks are given up. */
const RECHECK_BATCH = 100;

/** A held lock's entry in etcd: its unique name and create revision. */
export interface SessionEntry {
  readonly name: string;
  readonly revision: string;
}

/** etcd's answer when a lease was revoked or has expired. */
export const leaseGone = (error: unknown): boolean => /lease not found/i.test(String(error));

/**
 * One etcd lease shared by every keep-alive lock (and queued waiter) with the same TTL, as etcd's
 * concurrency.Session: one keep-alive every ttl/3 renews them all, instead of a lease and stream per lock.
 * When the lease is refused (expired) or a holder's deadline passes, the session retires: its locks are
 * lost together, its lease is revoked, and new locks get a fresh session. Each renewal also asks etcd
 * which keys the lease still carries, so a holder whose key was deleted from outside is told.
 */
export class EtcdLeaseSession {
  readonly leaseId: Promise<string>;
  private readonly locks = new Map<HeldLock, SessionEntry>();
  private waiters = 0;
  private idleSince = monotonicNow();
  private timer?: NodeJS.Timeout;
  private retired = false;
  private lastConfirmedSentAt = monotonicNow();
  private revoking?: Promise<void>;

  constructor(
    private readonly client: Etcd3,
    readonly ttl: number,
    private readonly onRetire: (session: EtcdLeaseSession) => void,
    /** How long a keep-alive waits for its answer, in ms. */
    private readonly commandTimeout: number,
  ) {
    // lastConfirmedSentAt starts now, before the grant is sent: the lease cannot start earlier
    this.leaseId = client.leaseClient.leaseGrant({ TTL: Math.ceil(ttl / 1000) }).then((granted) => String(granted.ID));
    this.leaseId.then(() => this.schedule(ttl / 3)).catch(() => this.retire());
  }

  /** When the last keep-alive etcd confirmed was sent: the lease lasts at least until then + ttl. */
  get confirmedSentAt(): number {
    return this.lastConfirmedSentAt;
  }

  get alive(): boolean {
    return !this.retired;
  }

  attach(lock: HeldLock, entry: SessionEntry): void {
    this.locks.set(lock, entry);
  }

  detach(lock: HeldLock): void {
    if (this.locks.delete(lock)) this.touchIdle();
  }

  /** A waiter's queue key lives on this lease while it waits. */
  addWaiter(): () => void {
    this.waiters++;
    return () => {
      this.waiters--;
      this.touchIdle();
    };
  }

  /** Sends one keep-alive now; false when etcd says the lease is gone. */
  async keepAliveNow(): Promise<boolean> {
    const id = await this.leaseId;
    const sentAt = monotonicNow();
    const stream = await this.client.leaseClient.leaseKeepAlive();
    let timer: NodeJS.Timeout | undefined;
    let answered = false;
    try {
      // A stream has no gRPC deadline (it is meant to last): the answer gets one here.
      const response = await new Promise<{ TTL: string }>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`etcd did not answer a keep-alive within ${this.commandTimeout} ms`)),
          this.commandTimeout,
        );
        stream.on('data', resolve);
        stream.on('error', reject);
        stream.write({ ID: id });
      });
      answered = true;
      if (Number(response.TTL) <= 0) {
        for (const lock of [...this.locks.keys()]) lock.lose('refused', 'etcd says its lease expired or was revoked');
        this.retire();
        return false;
      }
      this.lastConfirmedSentAt = Math.max(this.lastConfirmedSentAt, sentAt);
      for (const lock of this.locks.keys()) lock.confirm(sentAt);
      return true;
    } finally {
      clearTimeout(timer);
      // An unanswered one is cancelled, not left open on a connection that may be black-holed.
      if (answered) stream.end();
      else stream.cancel();
    }
  }

  /**
   * Loses every held lock whose key the lease no longer carries (deleted from outside: etcdctl del, an
   * operator's cleanup), so its holder learns it within a renewal period. One request lists the lease's
   * keys, whatever the number of locks; a key missing there is read once more by itself before its lock
   * is given up, since a cluster member may list the lease a moment behind the member that wrote the key.
   */
  private async checkKeys(): Promise<void> {
    if (this.locks.size === 0) return;
    const checked = [...this.locks];
    const { keys } = await this.client.leaseClient.leaseTimeToLive({ ID: await this.leaseId, keys: true });
    const carried = new Set(keys.map((key) => key.toString()));
    const missing = checked.filter(([lock, entry]) => !carried.has(entry.name) && !lock.settled);
    // an operator may have deleted thousands at once: read them back a batch at a time, not one by one
    for (let start = 0; start < missing.length; start += RECHECK_BATCH) {
      const batch = missing.slice(start, start + RECHECK_BATCH);
      await Promise.all(
        batch.map(async ([lock, entry]) => {
          if (!lock.settled && !(await this.exists(entry))) lock.lose('refused', 'its key was deleted from etcd');
        }),
      );
    }
  }

  private async exists(entry: SessionEntry): Promise<boolean> {
    const response = await this.client.if(entry.name, 'Create', '==', entry.revision).commit();
    return response.succeeded;
  }

  /** Stops keep-alive, loses its locks and revokes the lease (deleting every key on it), retrying until etcd answers. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    clearTimeout(this.timer);
    // Every lock on the lease goes with it; none may stay `held` over keys that are being revoked.
    for (const lock of [...this.locks.keys()]) lock.lose('deadline', 'its shared etcd lease was retired');
    this.onRetire(this);
    this.revoking = this.revoke(0);
  }

  /** Settles once the first attempt to revoke the retired lease is done, whether etcd answered or not. */
  get firstRevoke(): Promise<void> {
    return this.revoking ?? Promise.resolve();
  }

  private async revoke(attempt: number): Promise<void> {
    try {
      const ID = await this.leaseId;
      await this.client.leaseClient.leaseRevoke({ ID });
    } catch (error) {
      // Unreachable now; etcd drops the lease by itself at most one TTL after the last keep-alive.
      if (!leaseGone(error) && attempt * 1000 < this.ttl) setTimeout(() => void this.revoke(attempt + 1), 1000).unref();
    }
  }

  private touchIdle(): void {
    if (this.locks.size === 0 && this.waiters === 0) this.idleSince = monotonicNow();
  }

  private schedule(delay: number): void {
    if (this.retired) return;
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.locks.size === 0 && this.waiters === 0 && monotonicNow() - this.idleSince > Math.max(IDLE_REVOKE_MS, this.ttl)) {
      return this.retire();
    }
    try {
      if (!(await this.keepAliveNow())) return;
    } catch (error) {
      for (const lock of this.locks.keys()) lock.renewalFailed(error);
      return this.schedule(Math.min(this.ttl / 10, 1000));
    }
    this.schedule(this.ttl / 3);
    // The lease is renewed; a failed check only waits for the next one.
    await this.checkKeys().catch(() => undefined);
  }
}
