import type { Cluster, Redis } from 'ioredis';
import type { LockInfo } from '../../interfaces/lock-info.interface';
import { holderOfRedisOwner } from '../../inspection/lock-holder';
import { answerWithin } from '../../utils/settle-within';
import { namesOfLock, redisKeyNames } from './redis-key-names';
import { announcePrelude, FENCE_IDLE_MS, FORCE_RELEASE_SCRIPT, ReleaseAnnouncing } from './redis-scripts';

/** KEYS: lock, fence, queue. The holder's owner id, PTTL, fencing token and queue length; nil when free. */
const INSPECT_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if not owner then return false end
return {owner, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2]) or '0', redis.call('LLEN', KEYS[3])}
`;

/** SCAN batch size: big enough to list thousands of keys in a few round trips, small enough not to stall redis. */
const SCAN_COUNT = 1000;

/** A glob pattern that matches `text` literally. */
const globLiteral = (text: string): string => text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);

/** The key of a lock name `<prefix>{<escaped key>}` (see redisKeyNames). */
const keyOfLockName = (prefix: string, lock: string): string =>
  lock.slice(prefix.length + 1, -1).replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** What operators ask of redis: who holds a lock, remove it, list them, is the server there. Read-only but for forceRelease. */
export class RedisInspection {
  private readonly forceReleaseScript: string;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly commandTimeout: number,
    announcing: ReleaseAnnouncing,
  ) {
    this.forceReleaseScript = announcePrelude(announcing) + FORCE_RELEASE_SCRIPT;
  }

  /** PING every server that holds locks (each master of a cluster); rejects on the first that does not answer in time. */
  async ping(timeoutMs: number): Promise<void> {
    const servers = this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
    if (servers.length === 0) throw new Error('no redis cluster master is known');
    await answerWithin(Promise.all(servers.map((server) => server.ping())), timeoutMs, 'redis: ');
  }

  async inspect(keyPrefix: string, key: string): Promise<LockInfo | null> {
    return this.inspectLock(redisKeyNames(keyPrefix, key).lock, key);
  }

  async forceRelease(keyPrefix: string, key: string): Promise<boolean> {
    const names = redisKeyNames(keyPrefix, key);
    const removed = await this.client.eval(
      this.forceReleaseScript,
      5,
      names.lock,
      names.fence,
      names.queue,
      names.queueLeases,
      names.queueTtls,
      names.channel,
      FENCE_IDLE_MS,
    );
    return removed === 1;
  }

  /** SCAN (not KEYS: it does not block the server, and ACL users without @dangerous may run it) on every master. */
  async list(keyPrefix: string): Promise<LockInfo[]> {
    const servers = this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
    const pattern = `${globLiteral(keyPrefix)}{*}`;
    const names = new Set<string>();
    for (const server of servers) {
      let cursor = '0';
      do {
        const [next, found] = await answerWithin(
          server.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT),
          this.commandTimeout,
          'redis SCAN: ',
        );
        found.forEach((name) => names.add(name));
        cursor = next;
      } while (cursor !== '0');
    }
    const infos = await Promise.all([...names].map((lock) => this.inspectLock(lock, keyOfLockName(keyPrefix, lock))));
    return infos.filter((info): info is LockInfo => info !== null).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async inspectLock(lock: string, key: string): Promise<LockInfo | null> {
    const names = namesOfLock(lock);
    const reply = (await this.client.eval(INSPECT_SCRIPT, 3, names.lock, names.fence, names.queue)) as
      [string, number, string, number] | null;
    if (!reply) return null;
    const [owner, pttl, token, queued] = reply;
    const info: LockInfo = {
      key,
      kind: 'lock',
      fencingToken: BigInt(token),
      ttlLeftMs: Math.max(0, pttl),
      holder: holderOfRedisOwner(owner),
    };
    if (queued > 0) info.waiting = queued;
    return info;
  }
}
