import type { Cluster, Redis } from 'ioredis';
import { ACQUIRE_SCRIPT, announcePrelude, LEAVE_QUEUE_SCRIPT, RELEASE_SCRIPT, ReleaseAnnouncing, RENEW_SCRIPT } from './redis-scripts';

/** KEYS lock, fence, queue, queue leases, queue TTLs; ARGV owner, channel, fence idle ms, fence floor. */
export type QueueScriptArgs = [string, string, string, string, string, string, string, number, string];

/** The client with our scripts defined on it (EVALSHA, with EVAL after a server restart). */
export type ScriptedRedis = (Redis | Cluster) & LockerCommands;

interface LockerCommands {
  lockerAcquire(
    lock: string,
    fence: string,
    queue: string,
    queueLeases: string,
    queueTtls: string,
    owner: string,
    ttl: number,
    fenceIdle: number,
    queuePlace: number,
    fenceFloor: string,
    grantLease: number,
  ): Promise<[number, string | number, string?]>;
  lockerLeaveQueue(...keysThenArgs: QueueScriptArgs): Promise<number>;
  /** {0}: not ours; {1}: released to no one; {1, owner, token}: granted to that waiter. */
  lockerRelease(...keysThenArgs: QueueScriptArgs): Promise<[0] | [1] | [1, string, string]>;
  lockerRenew(keyCount: number, ...keysThenOwnersAndTtls: (string | number)[]): Promise<number[]>;
}

/**
 * Defines the lock scripts on `client` and returns it typed with them. Each script starts with the
 * `announce(channel, message)` of `announcing`, so any of them may tell waiters.
 */
export function withLockerScripts(client: Redis | Cluster, announcing: ReleaseAnnouncing): ScriptedRedis {
  const announce = announcePrelude(announcing);
  client.defineCommand('lockerAcquire', { numberOfKeys: 5, lua: announce + ACQUIRE_SCRIPT });
  client.defineCommand('lockerLeaveQueue', { numberOfKeys: 5, lua: announce + LEAVE_QUEUE_SCRIPT });
  client.defineCommand('lockerRelease', { numberOfKeys: 5, lua: announce + RELEASE_SCRIPT });
  client.defineCommand('lockerRenew', { lua: announce + RENEW_SCRIPT });
  return client as ScriptedRedis;
}
