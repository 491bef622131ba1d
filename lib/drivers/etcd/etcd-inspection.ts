import type { Etcd3, IKeyValue } from 'etcd3';
import { LockNamespace, mayHold, MAX_PERMIT_LIMIT } from '../../acquisition/lock-kind';
import type { LockHolding, LockInfo } from '../../interfaces/lock-info.interface';
import { ENTRY_NAME, etcdLockPrefix, keyOfLockPrefix, specOfEntry } from './etcd-entry-names';
import { holderOfEtcdEntry } from '../../inspection/lock-holder';
import { answerWithin } from '../../utils/settle-within';
import { probeEtcd } from './etcd-probe';
import { proclaimedOf } from './etcd-leadership';

/** One key's entries in one namespace, in create-revision order: a prefix of them holds, the rest wait. */
interface EntryQueue {
  key: string;
  namespace: LockNamespace;
  entries: IKeyValue[];
  /** How many entries there are, where more exist than were read. */
  count?: number;
}

/** A queue longer than this is read in part by inspect (its holders are a prefix, so they are among the first). */
const INSPECT_READ_LIMIT = MAX_PERMIT_LIMIT + 1;

/** What operators ask of etcd: who holds a lock, remove it, list them, is the cluster there. */
export class EtcdInspection {
  constructor(private readonly client: Etcd3) {}

  /** The connect check's read: a cluster without quorum is down too; a prefix-only role is up. */
  async ping(timeoutMs: number): Promise<void> {
    await answerWithin(probeEtcd(this.client), timeoutMs, 'etcd: ');
  }

  async inspect(keyPrefix: string, key: string, namespace: LockNamespace): Promise<LockInfo | null> {
    const queue = await this.queueOf(keyPrefix, key, namespace);
    return queue ? ((await this.describe([queue]))[0] ?? null) : null;
  }

  /**
   * Deletes the entries that hold the lock (each checked by its create revision, so a lock taken since is
   * left alone). The delete wakes the waiters' watches; the next entry's create revision, its fencing
   * token, is higher; a holder learns it at its next keep-alive, which checks the keys its lease carries.
   */
  async forceRelease(keyPrefix: string, key: string, namespace: LockNamespace): Promise<boolean> {
    const queue = await this.queueOf(keyPrefix, key, namespace);
    const holders = queue ? holdersOf(queue) : [];
    if (holders.length === 0) return false;
    const deletes = holders.map((entry) => {
      const name = entry.key.toString();
      return this.client.if(name, 'Create', '==', entry.create_revision).then(this.client.delete().key(name)).commit();
    });
    return (await Promise.all(deletes)).some((response) => response.succeeded);
  }

  async list(keyPrefix: string): Promise<LockInfo[]> {
    const { kvs } = await this.client.getAll().prefix(keyPrefix).sort('Create', 'Ascend').exec();
    const queues = new Map<string, EntryQueue>();
    for (const kv of kvs) {
      const lockPrefix = ENTRY_NAME.exec(kv.key.toString())?.[1];
      const named = lockPrefix === undefined ? undefined : keyOfLockPrefix(keyPrefix, lockPrefix);
      if (!named) continue; // not a lock entry
      let queue = queues.get(lockPrefix as string);
      if (!queue) {
        queue = { ...named, entries: [] };
        queues.set(lockPrefix as string, queue);
      }
      queue.entries.push(kv);
    }
    const infos = await this.describe([...queues.values()]);
    return infos.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The entries of `key` in `namespace`, oldest first (a mutex's: its holder, and the count); undefined when none. */
  private async queueOf(keyPrefix: string, key: string, namespace: LockNamespace): Promise<EntryQueue | undefined> {
    const range = await this.client
      .getAll()
      .prefix(etcdLockPrefix(keyPrefix, key, namespace))
      .sort('Create', 'Ascend')
      .limit(namespace === 'lock' || namespace === 'leader' ? 1 : INSPECT_READ_LIMIT)
      .exec();
    return range.kvs.length ? { key, namespace, entries: range.kvs, count: Number(range.count) } : undefined;
  }

  /** LockInfo per queue that has a holder; each lease's TTL is asked once (a driver's locks share one lease per TTL). */
  private async describe(queues: EntryQueue[]): Promise<LockInfo[]> {
    const ttls = new Map<string, Promise<number>>();
    const ttlOf = (lease: string): Promise<number> => {
      let ttl = ttls.get(lease);
      if (!ttl) {
        ttl = this.client.leaseClient.leaseTimeToLive({ ID: lease }).then((answer) => Math.max(0, Number(answer.TTL)) * 1000);
        ttls.set(lease, ttl);
      }
      return ttl;
    };
    const infos = await Promise.all(
      queues.map(async (queue): Promise<LockInfo | undefined> => {
        const holders = holdersOf(queue);
        const holdings: LockHolding[] = await Promise.all(
          holders.map(async (entry) => ({
            kind: specOfEntry(entry.key.toString(), queue.namespace).kind,
            fencingToken: BigInt(entry.create_revision),
            ttlLeftMs: await ttlOf(entry.lease),
            holder: holderOfEtcdEntry(entry.value.toString(), entry.key.toString()),
          })),
        );
        const newest = holdings.at(-1);
        if (!newest) return undefined;
        const info: LockInfo = { key: queue.key, ...newest, waiting: (queue.count ?? queue.entries.length) - holdings.length };
        if (queue.namespace === 'permit' || queue.namespace === 'rw') info.holders = holdings;
        const value = queue.namespace === 'leader' ? proclaimedOf(holders[0].value.toString())?.value : undefined;
        if (value !== undefined) info.value = value;
        return info;
      }),
    );
    return infos.filter((info): info is LockInfo => info !== undefined);
  }
}

/** The entries of the queue that hold: the prefix its kinds' rule lets hold. */
function holdersOf(queue: EntryQueue): IKeyValue[] {
  const specs = queue.entries.map((entry) => specOfEntry(entry.key.toString(), queue.namespace));
  const holding = specs.findIndex((_, index) => !mayHold(specs, index));
  return holding < 0 ? queue.entries : queue.entries.slice(0, holding);
}
