import type { Etcd3, IKeyValue } from 'etcd3';
import type { LockInfo } from '../../interfaces/lock-info.interface';
import { holderOfEtcdEntry } from '../../inspection/lock-holder';
import { answerWithin } from '../../utils/settle-within';
import { probeEtcd } from './etcd-probe';

/** Lock entries are `<prefix><URI-encoded key>/<16 hex digits>` (see EtcdLockDriver.enqueue). */
const ENTRY_NAME = /^(.*)\/[0-9a-f]{16}$/;

/** Every lock's entries under one prefix, in create-revision order: the first holds the lock, the rest wait. */
interface EntryQueue {
  key: string;
  entries: IKeyValue[];
}

/** What operators ask of etcd: who holds a lock, remove it, list them, is the cluster there. */
export class EtcdInspection {
  constructor(private readonly client: Etcd3) {}

  /** The connect check's read: a cluster without quorum is down too; a prefix-only role is up. */
  async ping(timeoutMs: number): Promise<void> {
    await answerWithin(probeEtcd(this.client), timeoutMs, 'etcd: ');
  }

  async inspect(keyPrefix: string, key: string): Promise<LockInfo | null> {
    const first = await this.firstEntry(keyPrefix, key);
    return first ? (await this.describe([{ key, entries: first.entries }], first.count))[0] : null;
  }

  /**
   * Deletes the entry that holds the lock (checked by its create revision, so a lock taken since is left
   * alone). The delete wakes the waiters' watches; the next entry's create revision, its fencing token,
   * is higher; the holder learns it at its next keep-alive, which checks the keys its lease carries.
   */
  async forceRelease(keyPrefix: string, key: string): Promise<boolean> {
    const first = await this.firstEntry(keyPrefix, key);
    if (!first) return false;
    const [entry] = first.entries;
    const name = entry.key.toString();
    const response = await this.client.if(name, 'Create', '==', entry.create_revision).then(this.client.delete().key(name)).commit();
    return response.succeeded;
  }

  async list(keyPrefix: string): Promise<LockInfo[]> {
    const { kvs } = await this.client.getAll().prefix(keyPrefix).sort('Create', 'Ascend').exec();
    const queues = new Map<string, EntryQueue>();
    for (const kv of kvs) {
      const lockPrefix = ENTRY_NAME.exec(kv.key.toString())?.[1];
      if (lockPrefix === undefined) continue; // not a lock entry
      let queue = queues.get(lockPrefix);
      if (!queue) {
        queue = { key: decodeURIComponent(lockPrefix.slice(keyPrefix.length)), entries: [] };
        queues.set(lockPrefix, queue);
      }
      queue.entries.push(kv);
    }
    const infos = await this.describe([...queues.values()]);
    return infos.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The oldest entry of `key` (the holder's) and how many there are; undefined when free. */
  private async firstEntry(keyPrefix: string, key: string): Promise<{ entries: IKeyValue[]; count: number } | undefined> {
    const range = await this.client
      .getAll()
      .prefix(`${keyPrefix}${encodeURIComponent(key)}/`)
      .sort('Create', 'Ascend')
      .limit(1)
      .exec();
    return range.kvs.length ? { entries: range.kvs, count: Number(range.count) } : undefined;
  }

  /** LockInfo per queue; each lease's TTL is asked once (a driver's locks share one lease per TTL). */
  private async describe(queues: EntryQueue[], count?: number): Promise<LockInfo[]> {
    const ttls = new Map<string, Promise<number>>();
    const ttlOf = (lease: string): Promise<number> => {
      let ttl = ttls.get(lease);
      if (!ttl) {
        ttl = this.client.leaseClient.leaseTimeToLive({ ID: lease }).then((answer) => Math.max(0, Number(answer.TTL)) * 1000);
        ttls.set(lease, ttl);
      }
      return ttl;
    };
    return Promise.all(
      queues.map(async ({ key, entries }) => {
        const [holder] = entries;
        return {
          key,
          kind: 'lock' as const,
          fencingToken: BigInt(holder.create_revision),
          ttlLeftMs: await ttlOf(holder.lease),
          holder: holderOfEtcdEntry(holder.value.toString(), holder.key.toString()),
          waiting: (count ?? entries.length) - 1,
        };
      }),
    );
  }
}
