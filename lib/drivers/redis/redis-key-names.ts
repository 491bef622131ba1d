import type { LockNamespace } from '../../acquisition/lock-kind';

/**
 * Server names for one lock key. The key is escaped so that `{`/`}` in it cannot change the hash tag:
 * every name of one lock shares the tag `{<escaped key>}`, so they sit in one Redis Cluster slot, and the
 * escaping (`%` first) keeps distinct keys distinct. A mutex is `<prefix>{<key>}` (as ever); the other
 * namespaces are `<prefix><namespace>:{<key>}`, which no mutex name can be (its tag follows the prefix).
 * The other names are made when read: an uncontended cycle sends two of them.
 */
export class RedisKeyNames {
  /** The exclusive holder (a mutex's, a leader's, a writer's): its owner id, with the lease as the key's TTL. */
  constructor(readonly lock: string) {}

  /** Permits and readers: the shared holders (a sorted set: owner → when its lease lapses, server ms). */
  get holders(): string {
    return `${this.lock}:holders`;
  }

  /** The fencing token of each shared holder (a hash). */
  get tokens(): string {
    return `${this.lock}:tokens`;
  }

  get fence(): string {
    return `${this.lock}:fence`;
  }

  /** Waiters: owners in arrival order (a list), when each one's place lapses (a sorted set, server ms), and the TTL (and kind) each asked for (a hash). */
  get queue(): string {
    return `${this.lock}:queue`;
  }

  get queueLeases(): string {
    return `${this.lock}:queue-leases`;
  }

  get queueTtls(): string {
    return `${this.lock}:queue-ttls`;
  }

  /** Set while a fair waiter is queued: no process keeps a released lock for itself then. */
  get queueFair(): string {
    return `${this.lock}:queue-fair`;
  }

  get channel(): string {
    return releasedChannel(this.lock);
  }

  /** Every key of the lock (not the channel): the names above are getters, which a spread or Object.values misses. */
  get keys(): string[] {
    return [this.lock, this.holders, this.tokens, this.fence, this.queue, this.queueLeases, this.queueTtls, this.queueFair];
  }
}

const ESCAPED = /[%{}]/;

export function redisKeyNames(prefix: string, key: string, namespace: LockNamespace = 'lock'): RedisKeyNames {
  // most keys have nothing to escape: a test is cheaper than a replace with a callback
  const escaped = ESCAPED.test(key) ? key.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`) : key;
  return namesOfLock(namespace === 'lock' ? `${prefix}{${escaped}}` : `${prefix}${namespace}:{${escaped}}`);
}

/** Every name of the lock whose own name is `lock` (a held lock keeps only that one); each is made when read. */
export const namesOfLock = (lock: string): RedisKeyNames => new RedisKeyNames(lock);

/** Where releases of the lock named `lock` are published. */
export const releasedChannel = (lock: string): string => `${lock}:released`;
