import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { LockHolder } from '../interfaces/lock-info.interface';

/** Host names are cut to this length in what each lock records (Kubernetes pod names fit). */
const MAX_HOST_LENGTH = 63;

/** Who this process is, for one driver instance: written with each lock so that another process can tell. */
export function localHolder(): LockHolder {
  return { id: randomBytes(9).toString('base64url'), host: hostname().slice(0, MAX_HOST_LENGTH), pid: process.pid };
}

/**
 * Redis owner ids are `<id>.<pid>.<host>:<counter>`: the holder is encoded once, in a prefix that every
 * lock of the driver instance shares, so recording it costs no extra write or field per lock.
 */
export const redisOwnerPrefix = (holder: LockHolder): string => `${holder.id}.${holder.pid}.${holder.host.replace(/:/g, '-')}:`;

/** The holder a redis owner id names; an id written by an older version names only itself. */
export function holderOfRedisOwner(owner: string): LockHolder {
  const match = /^([\w-]+)\.(\d+)\.([^:]*):[0-9a-z]+$/.exec(owner);
  return match ? { id: match[1], pid: Number(match[2]), host: match[3] } : { id: owner, host: '', pid: 0 };
}

/** etcd entries carry their holder as their value: one constant string per driver instance. */
export const etcdEntryValue = (holder: LockHolder): string => JSON.stringify(holder);

/** The holder an etcd entry's value names; an empty value (an older version) names no one. */
export function holderOfEtcdEntry(value: string, entryName: string): LockHolder {
  try {
    const parsed = JSON.parse(value) as Partial<LockHolder>;
    if (typeof parsed.id === 'string' && typeof parsed.host === 'string' && typeof parsed.pid === 'number') {
      return { id: parsed.id, host: parsed.host, pid: parsed.pid };
    }
  } catch {
    // not ours: fall through
  }
  return { id: entryName.slice(entryName.lastIndexOf('/') + 1), host: '', pid: 0 };
}
