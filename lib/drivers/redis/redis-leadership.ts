import type { Cluster, Redis } from 'ioredis';
import type { LeaderInfo } from '../../interfaces/election.interface';
import type { LeaderWatch } from '../../interfaces/locker-driver.interface';
import { holderOfRedisOwner } from '../../inspection/lock-holder';
import type { HeldLock } from '../../lock/held-lock';
import { LeaderLook, LeaderLooks } from '../leader-looks';
import { redisKeyNames, releasedChannel } from './redis-key-names';
import { RedisLockRemote } from './redis-lock-remote';
import type { RedisReleaseSubscriber } from './redis-release-subscriber';
import { announcePrelude, ReleaseAnnouncing } from './redis-script-parts';
import { LEADER_SCRIPT, PROCLAIM_SCRIPT, proclaimedBy, proclaimedKey } from './redis-leader-scripts';

/** A dead leader's lease is looked at again this long after it should have ended (the waiters' expiry fallback). */
const LEASE_END_SLACK_MS = 5;

interface LeaderCommands {
  lockerProclaim(
    lock: string,
    value: string,
    owner: string,
    term: string,
    hasValue: number,
    proclaimed: string,
    channel: string,
  ): Promise<number>;
  lockerLeader(lock: string, value: string): Promise<[string, number, string] | null>;
}

/**
 * Elections on redis: the proclaimed value beside the leader's lock, and the observers, who listen on the
 * lock's channel (releases, grants and proclamations are announced there) on the driver's one subscriber,
 * and read the leader again at each message, at the leader's lease end and after the subscriber reconnects.
 */
export class RedisLeadership {
  private readonly client: (Redis | Cluster) & LeaderCommands;
  private readonly watches = new Set<LeaderWatch>();

  constructor(
    client: Redis | Cluster,
    private readonly subscriber: RedisReleaseSubscriber,
    announcing: ReleaseAnnouncing,
  ) {
    client.defineCommand('lockerProclaim', { numberOfKeys: 2, lua: announcePrelude(announcing) + PROCLAIM_SCRIPT });
    client.defineCommand('lockerLeader', { numberOfKeys: 2, lua: LEADER_SCRIPT });
    this.client = client as (Redis | Cluster) & LeaderCommands;
  }

  async proclaim(lock: HeldLock, value: string | undefined): Promise<boolean> {
    const remote = lock.remote;
    if (!(remote instanceof RedisLockRemote) || lock.kind !== 'leader' || !lock.held) return false;
    const proclaimed = await this.client.lockerProclaim(
      remote.lock,
      proclaimedKey(remote.lock),
      remote.owner,
      lock.fencingToken.toString(),
      value === undefined ? 0 : 1,
      value ?? '',
      releasedChannel(remote.lock),
    );
    return proclaimed === 1;
  }

  async leader(keyPrefix: string, name: string): Promise<LeaderInfo | null> {
    return (await this.look(redisKeyNames(keyPrefix, name, 'leader').lock)).leader;
  }

  watch(keyPrefix: string, name: string, look: (leader: LeaderInfo | null) => void): LeaderWatch {
    const names = redisKeyNames(keyPrefix, name, 'leader');
    const looks = new LeaderLooks(() => this.look(names.lock), look);
    // subscribed first, then read: no change falls between the two (a failed SUBSCRIBE is made again, then heard as a hint)
    const listening = this.subscriber.listen(names.channel, () => looks.again());
    listening.ready.then(
      () => looks.again(),
      () => looks.again(),
    );
    const watch: LeaderWatch = {
      close: () => {
        this.watches.delete(watch);
        listening.stop();
        looks.close();
      },
    };
    this.watches.add(watch);
    return watch;
  }

  close(): void {
    for (const watch of [...this.watches]) watch.close();
  }

  /** The leader of the lock named `lock`, and when its lease would end. */
  private async look(lock: string): Promise<LeaderLook> {
    const found = await this.client.lockerLeader(lock, proclaimedKey(lock));
    if (!found) return { leader: null };
    const [owner, pttl, record] = found;
    const recheckInMs = Math.max(0, Number(pttl)) + LEASE_END_SLACK_MS;
    const proclaimed = proclaimedBy(owner, record);
    if (!proclaimed) return { leader: null, recheckInMs }; // taken, not yet proclaimed: its proclamation is announced
    return { leader: { ...holderOfRedisOwner(owner), ...proclaimed }, recheckInMs };
  }
}
