import type { Cluster, Redis } from 'ioredis';
import { ACQUIRE_SCRIPT, announcePrelude, LEAVE_QUEUE_SCRIPT, RELEASE_SCRIPT, ReleaseAnnouncing, RENEW_SCRIPT } from './redis-scripts';

/** The client with our scripts defined on it (EVALSHA, with EVAL after a server restart). */
export type ScriptedRedis = (Redis | Cluster) & LockerCommands;

interface LockerCommands {
  lockerAcquire(
    lock: string,
    fence: string,
    queue: string,
    queueLeases: string,
    owner: string,
    ttl: number,
    fenceIdle: number,
    queuePlace: number,
    fenceFloor: string,
  ): Promise<[number, string | number]>;
  lockerLeaveQueue(queue: string, queueLeases: string, owner: string, channel: string): Promise<number>;
  lockerRelease(lock: string, queue: string, queueLeases: string, owner: string, channel: string): Promise<number>;
  lockerRenew(keyCount: number, ...keysThenOwnersAndTtls: (string | number)[]): Promise<number[]>;
}

/**
 * Defines the lock scripts on `client` and returns it typed with them. Each script starts with the
 * `announce(channel, message)` of `announcing`, so any of them may tell waiters.
 */
export function withLockerScripts(client: Redis | Cluster, announcing: ReleaseAnnouncing): ScriptedRedis {
  const announce = announcePrelude(announcing);
  client.defineCommand('lockerAcquire', { numberOfKeys: 4, lua: announce + ACQUIRE_SCRIPT });
  client.defineCommand('lockerLeaveQueue', { numberOfKeys: 2, lua: announce + LEAVE_QUEUE_SCRIPT });
  client.defineCommand('lockerRelease', { numberOfKeys: 3, lua: announce + RELEASE_SCRIPT });
  client.defineCommand('lockerRenew', { lua: announce + RENEW_SCRIPT });
  return client as ScriptedRedis;
}
