import type { Cluster, Redis } from 'ioredis';
import type { LockKind, LockNamespace } from '../../acquisition/lock-kind';
import type { LockHolding, LockInfo } from '../../interfaces/lock-info.interface';
import { holderOfRedisOwner } from '../../inspection/lock-holder';
import { answerWithin } from '../../utils/settle-within';
import { namesOfLock, RedisKeyNames, redisKeyNames } from './redis-key-names';
import { proclaimedBy, proclaimedKey } from './redis-leader-scripts';
import { sharedKeys } from './redis-lock-protocols';
import type { ScriptedRedis } from './redis-scripted-client';
import { SHARED_INSPECT_SCRIPT } from './redis-shared-scripts';

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

/** The namespaces and the name each has a lock under while held (see redisKeyNames): `*` is the key's tag. */
const LISTED: [LockNamespace, string][] = [
  ['lock', '{*}'],
  ['leader', 'leader:{*}'],
  ['rw', 'rw:{*}'],
  ['rw', 'rw:{*}:holders'],
  ['permit', 'permit:{*}:holders'],
];

/** The key in a lock name `<prefix>[<namespace>:]{<escaped key>}[:holders]` (see redisKeyNames). */
function keyOfLockName(lockName: string): string {
  const tag = lockName.slice(lockName.indexOf('{') + 1, lockName.lastIndexOf('}'));
  return tag.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const shared = (namespace: LockNamespace): boolean => namespace === 'permit' || namespace === 'rw';

/** What operators ask of redis: who holds a lock, remove it, list them, is the server there. Read-only but for forceRelease. */
export class RedisInspection {
  /** `client` has the driver's scripts: a forceRelease that grants the lock to a waiter mints its token as a take does. */
  constructor(
    private readonly client: ScriptedRedis,
    private readonly commandTimeout: number,
  ) {}

  /** PING every server that holds locks (each master of a cluster); rejects on the first that does not answer in time. */
  async ping(timeoutMs: number): Promise<void> {
    const servers = this.masters();
    if (servers.length === 0) throw new Error('no redis cluster master is known');
    await answerWithin(Promise.all(servers.map((server) => server.ping())), timeoutMs, 'redis: ');
  }

  async inspect(keyPrefix: string, key: string, namespace: LockNamespace): Promise<LockInfo | null> {
    return this.inspectLock(redisKeyNames(keyPrefix, key, namespace), key, namespace);
  }

  async forceRelease(keyPrefix: string, key: string, namespace: LockNamespace): Promise<boolean> {
    const names = redisKeyNames(keyPrefix, key, namespace);
    const removed = shared(namespace)
      ? await this.client.lockerSharedForceRelease(...sharedKeys(names), names.channel)
      : await this.client.lockerForceRelease(names.lock, names.fence, names.queue, names.queueLeases, names.queueTtls, names.channel);
    return removed === 1;
  }

  /** SCAN (not KEYS: it does not block the server, and ACL users without @dangerous may run it) on every master. */
  async list(keyPrefix: string): Promise<LockInfo[]> {
    const locks = new Map<string, LockNamespace>();
    for (const server of this.masters()) {
      for (const [namespace, pattern] of LISTED) {
        let cursor = '0';
        do {
          const [next, found] = await answerWithin(
            server.scan(cursor, 'MATCH', `${globLiteral(keyPrefix)}${pattern}`, 'COUNT', SCAN_COUNT),
            this.commandTimeout,
            'redis SCAN: ',
          );
          for (const name of found) locks.set(name.replace(/:holders$/, ''), namespace);
          cursor = next;
        } while (cursor !== '0');
      }
    }
    const infos = await Promise.all(
      [...locks].map(([lock, namespace]) => this.inspectLock(namesOfLock(lock), keyOfLockName(lock), namespace)),
    );
    return infos.filter((info): info is LockInfo => info !== null).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private masters(): Redis[] {
    return this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }

  private async inspectLock(names: RedisKeyNames, key: string, namespace: LockNamespace): Promise<LockInfo | null> {
    if (shared(namespace)) return this.inspectShared(names, key, namespace);
    const reply = (await this.client.eval(INSPECT_SCRIPT, 3, names.lock, names.fence, names.queue)) as
      [string, number, string, number] | null;
    if (!reply) return null;
    const [owner, pttl, token, queued] = reply;
    const info: LockInfo = {
      key,
      kind: namespace === 'leader' ? 'leader' : 'lock',
      fencingToken: BigInt(token),
      ttlLeftMs: Math.max(0, pttl),
      holder: holderOfRedisOwner(owner),
    };
    if (queued > 0) info.waiting = queued;
    if (namespace === 'leader') {
      const proclaimed = proclaimedBy(owner, (await this.client.get(proclaimedKey(names.lock))) ?? '');
      if (proclaimed?.value !== undefined) info.value = proclaimed.value;
    }
    return info;
  }

  /** A permit's or read/write lock's holders, oldest (lowest token) first; the newest is the LockInfo's own fields. */
  private async inspectShared(names: RedisKeyNames, key: string, namespace: LockNamespace): Promise<LockInfo | null> {
    const sharedKind: LockKind = namespace === 'permit' ? 'permit' : 'read';
    const reply = (await this.client.eval(SHARED_INSPECT_SCRIPT, 7, ...sharedKeys(names), sharedKind)) as
      [[string, number, string, LockKind][], number] | null;
    if (!reply) return null;
    const [held, queued] = reply;
    const holders: LockHolding[] = held
      .map(([owner, ttlLeft, token, kind]) => ({
        kind,
        fencingToken: BigInt(token),
        ttlLeftMs: Math.max(0, Number(ttlLeft)),
        holder: holderOfRedisOwner(owner),
      }))
      .sort((a, b) => (a.fencingToken < b.fencingToken ? -1 : 1));
    const info: LockInfo = { key, ...holders[holders.length - 1], holders };
    if (queued > 0) info.waiting = queued;
    return info;
  }
}
