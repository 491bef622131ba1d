import type { Etcd3, IOperation, IRangeResponse, MultiRangeBuilder } from 'etcd3';
import type { QueuedSpec } from '../../acquisition/lock-kind';
import type { AheadRead } from './etcd-entries-ahead';
import { EtcdLeaseSession, leaseGone } from './etcd-lease-session';
import { QueueEntry, QueuePositionLost } from './etcd-queue-entry';
import { entryName } from './etcd-entry-names';

/** A delete etcd did not confirm is sent again this many times in the background, 0.2 s to 3.2 s apart. */
const DELETE_RETRIES = 5;

/** A read of the names ahead returns at most this many; a waiter behind a longer queue reads again once they are gone. */
const AHEAD_READ_LIMIT = 256;

/** Whoever follows the entries ahead: told just before the read is sent, and of its answer. */
export interface EntriesAheadRead {
  sending(): void;
  answered(read: AheadRead): void;
}

/** A range op for a txn that returns names only, not the entries' values. */
function keysOnly(range: MultiRangeBuilder): IOperation {
  return { op: async () => ({ request_range: { ...(await range.op()).request_range, keys_only: true } }) };
}

/**
 * How many names ahead a read returns: AHEAD_READ_LIMIT, or a permit's limit if higher (a waiter must see
 * whether fewer than its limit are ahead). Permits read them oldest first, for the rule of mixed limits;
 * for the other kinds the order does not matter, and etcd returns keys unsorted at less cost.
 */
const readLimit = (spec: QueuedSpec): number => Math.max(AHEAD_READ_LIMIT, spec.limit ?? 0);

function ahead(range: MultiRangeBuilder, spec: QueuedSpec, limit: number): IOperation {
  return keysOnly((spec.kind === 'permit' ? range.sort('Create', 'Ascend') : range).limit(limit));
}

/** The names in `listed` but ours; complete unless etcd said there were more. */
function aheadOf(listed: IRangeResponse, ownName: string, limit: number): AheadRead {
  const names = listed.kvs.map((kv) => kv.key.toString()).filter((name) => name !== ownName);
  return { names: names.slice(0, limit), complete: !listed.more && names.length <= limit };
}

/** The queue entries of the etcd driver's locks, as etcd stores them: written, read, moved and removed. */
export class EtcdQueue {
  /** Set at the driver's close: background deletes stop. */
  closed = false;

  constructor(
    private readonly client: Etcd3,
    /** Every entry's value: who holds it, one string for all the driver's locks. */
    private readonly entryValue: string,
  ) {}

  /**
   * Writes our unique entry and, in the same txn, lists the names under the prefix (keys only): every
   * other one is older, so when the kind's rule lets ours hold behind them the lock is taken in one round
   * trip, and otherwise the waiter knows which entries it waits for. A fixed-TTL lock (no `session`) gets a
   * lease of its own that is never kept alive. `follow(name)` hears of the read before it is sent and of its answer.
   */
  async enqueue(
    lockPrefix: string,
    spec: QueuedSpec,
    ttl: number,
    session: EtcdLeaseSession | undefined,
    follow: (name: string) => EntriesAheadRead,
  ): Promise<QueueEntry> {
    const name = entryName(lockPrefix, spec);
    const limit = readLimit(spec);
    const unpin = session?.addWaiter();
    let leaseId: string | undefined;
    try {
      leaseId = session ? await session.leaseId : await this.grantFixedLease(ttl);
      const put = this.client.put(name).value(this.entryValue).lease(leaseId);
      const entries = ahead(this.client.getAll().prefix(lockPrefix), spec, limit + 1);
      // The name is ours alone: if it exists, etcd3 resent this txn after etcd had applied it (a member
      // died before answering), and the entry written then is ours; never leave it behind as an orphan.
      const written = this.client.get(name);
      const reading = follow(name);
      reading.sending();
      const response = await this.client.if(name, 'Create', '==', 0).then(put, entries).else(written).commit();
      const revision = response.succeeded ? response.header.revision : response.responses[0]?.response_range?.kvs[0]?.create_revision;
      if (revision === undefined) throw new QueuePositionLost(); // written, then gone with its lease: enqueue again
      const entry = { lockPrefix, name, spec, revision, session, fixedLeaseId: session ? undefined : leaseId, unpin };
      const listed = response.succeeded ? response.responses[1]?.response_range : undefined;
      if (listed) reading.answered(aheadOf(listed, name, limit));
      return entry;
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

  /** The names of the entries ahead of ours (keys only), read in one txn that also proves our entry still exists. */
  async readAhead(entry: QueueEntry, reading: EntriesAheadRead): Promise<void> {
    const limit = readLimit(entry.spec);
    const before = ahead(
      this.client
        .getAll()
        .prefix(entry.lockPrefix)
        .maxCreateRevision(String(BigInt(entry.revision) - 1n)),
      entry.spec,
      limit + 1,
    );
    reading.sending();
    const response = await this.client.if(entry.name, 'Create', '==', entry.revision).then(before).commit();
    if (!response.succeeded) throw new QueuePositionLost();
    reading.answered(aheadOf(response.responses[0].response_range, entry.name, limit));
  }

  /**
   * Puts the entry on another lease (a session's, or a fixed one of its own); the create revision, our
   * place and fencing token, stays. A fixed lease left behind is revoked. False if the entry is gone.
   */
  async moveEntry(entry: QueueEntry, target: { leaseId: string; session?: EtcdLeaseSession }): Promise<boolean> {
    const put = this.client
      .put(entry.name)
      .value(entry.value ?? this.entryValue)
      .lease(target.leaseId);
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

  async grantFixedLease(ttl: number): Promise<string> {
    const granted = await this.client.leaseClient.leaseGrant({ TTL: Math.ceil(ttl / 1000) });
    return String(granted.ID);
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

  private async revokeLease(ID: string): Promise<void> {
    await this.client.leaseClient.leaseRevoke({ ID }).catch(() => undefined);
  }
}
