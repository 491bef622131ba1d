import type { Etcd3, IKeyValue } from 'etcd3';
import type { LeaderInfo } from '../../interfaces/election.interface';
import type { LockHolder } from '../../interfaces/lock-info.interface';
import type { LeaderWatch } from '../../interfaces/locker-driver.interface';
import { holderOfEtcdEntry } from '../../inspection/lock-holder';
import type { HeldLock } from '../../lock/held-lock';
import { LeaderLooks } from '../leader-looks';
import { etcdLockPrefix } from './etcd-entry-names';
import { LastingWatch } from './etcd-lasting-watch';
import { EtcdLockRemote } from './etcd-lock-remote';

/**
 * What an entry proclaimed: a leader's entry carries the holder JSON plus `value` (null: none) once it
 * proclaimed; undefined for an entry that has not (a candidate, a leader a moment after its grant).
 */
export function proclaimedOf(entryValue: string): { value?: string } | undefined {
  try {
    const parsed = JSON.parse(entryValue) as { value?: unknown };
    if (!Object.hasOwn(parsed, 'value')) return undefined;
    return typeof parsed.value === 'string' ? { value: parsed.value } : {};
  } catch {
    return undefined;
  }
}

/** The leader an election's first entry (lowest create revision) names, once it proclaimed. */
function leaderOf(first: IKeyValue | undefined): LeaderInfo | null {
  const proclaimed = first && proclaimedOf(first.value.toString());
  if (!first || !proclaimed) return null;
  return { ...holderOfEtcdEntry(first.value.toString(), first.key.toString()), term: BigInt(first.create_revision), ...proclaimed };
}

/**
 * Elections on etcd, as etcd's own concurrency.Election keeps them: candidates are the entries under the
 * `leader` namespace's prefix of the name, the lowest create revision leads, and its entry's value says what
 * it proclaimed. Observers watch the prefix (puts and deletes) and read the first entry again at each event,
 * and after a reconnect, a compaction or a restart (the watch is made again, then they look).
 */
export class EtcdLeadership {
  private readonly watches = new Set<LeaderWatch>();

  constructor(
    private readonly client: Etcd3,
    private readonly holder: LockHolder,
  ) {}

  /** Puts the value into the leader's own entry, checked by its create revision (the term), keeping its lease. */
  async proclaim(lock: HeldLock, value: string | undefined): Promise<boolean> {
    const remote = lock.remote;
    if (!(remote instanceof EtcdLockRemote) || lock.kind !== 'leader' || !lock.held) return false;
    const entry = remote.entry;
    // set first: a keep-alive move of the entry to another lease meanwhile writes this value too
    entry.value = JSON.stringify({ ...this.holder, value: value ?? null });
    const put = this.client.put(entry.name).value(entry.value).ignoreLease();
    const response = await this.client.if(entry.name, 'Create', '==', entry.revision).then(put).commit();
    return response.succeeded;
  }

  async leader(keyPrefix: string, name: string): Promise<LeaderInfo | null> {
    const { kvs } = await this.client
      .getAll()
      .prefix(etcdLockPrefix(keyPrefix, name, 'leader'))
      .sort('Create', 'Ascend')
      .limit(1)
      .exec();
    return leaderOf(kvs[0]);
  }

  watch(keyPrefix: string, name: string, look: (leader: LeaderInfo | null) => void): LeaderWatch {
    const lockPrefix = etcdLockPrefix(keyPrefix, name, 'leader');
    const looks = new LeaderLooks(async () => ({ leader: await this.leader(keyPrefix, name) }), look);
    // every event, and every disconnect, reconnect and re-creation of the watch, is a reason to look
    const watch = new LastingWatch(
      () => this.client.watch().prefix(lockPrefix),
      () => looks.again(),
    );
    watch.ready.then(
      () => looks.again(),
      () => looks.again(),
    );
    const leaderWatch: LeaderWatch = {
      close: () => {
        this.watches.delete(leaderWatch);
        watch.close();
        looks.close();
      },
    };
    this.watches.add(leaderWatch);
    return leaderWatch;
  }

  close(): void {
    for (const watch of [...this.watches]) watch.close();
  }
}
