/**
 * Server names for one lock key. The key is escaped so that `{`/`}` in it cannot change the hash tag:
 * every name of one lock shares the tag `{<escaped key>}`, so they sit in one Redis Cluster slot, and the
 * escaping (`%` first) keeps distinct keys distinct.
 */
export interface RedisKeyNames {
  lock: string;
  fence: string;
  /** Fair mode: owners in arrival order (a list) and when each one's place lapses (a sorted set, server ms). */
  queue: string;
  queueLeases: string;
  channel: string;
}

export function redisKeyNames(prefix: string, key: string): RedisKeyNames {
  const tagged = `${prefix}{${key.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)}}`;
  return {
    lock: tagged,
    fence: `${tagged}:fence`,
    queue: `${tagged}:queue`,
    queueLeases: `${tagged}:queue-leases`,
    channel: releasedChannel(tagged),
  };
}

/** Where releases of the lock named `lock` are published. */
export const releasedChannel = (lock: string): string => `${lock}:released`;
