import type { Cluster, Redis } from 'ioredis';
import { ACQUIRE_SCRIPT, announcePrelude, LEAVE_QUEUE_SCRIPT, RELEASE_SCRIPT, ReleaseAnnouncing, RENEW_SCRIPT } from './redis-scripts';
import {
  SHARED_ACQUIRE_SCRIPT,
  SHARED_FORCE_RELEASE_SCRIPT,
  SHARED_LEAVE_QUEUE_SCRIPT,
  SHARED_RELEASE_SCRIPT,
  SHARED_RENEW_SCRIPT,
} from './redis-shared-scripts';

/** KEYS lock, fence, queue, queue leases, queue TTLs; ARGV owner, channel, fence idle ms, fence floor. */
export type QueueScriptArgs = [string, string, string, string, string, string, string, number, string];

/** KEYS writer, holders, tokens, fence, queue, queue leases, queue info (see redis-shared-scripts). */
export type SharedKeys = [string, string, string, string, string, string, string];

/** One attempt's answer: {1, token} taken, {2, token} held already (a grant), {0, ms, fence} busy. */
export type AttemptReply = [1 | 2, string] | [0, number, string];

/** {0}: not ours; {1, owner, token, owner, token, ...}: released, and granted to those waiters (none: to no one). */
export type ReleaseReply = [0] | [1, ...string[]];

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
  ): Promise<AttemptReply>;
  lockerLeaveQueue(...keysThenArgs: QueueScriptArgs): Promise<number>;
  lockerRelease(...keysThenArgs: QueueScriptArgs): Promise<ReleaseReply>;
  lockerRenew(keyCount: number, ...keysThenOwnersAndTtls: (string | number)[]): Promise<number[]>;
  lockerSharedAcquire(
    ...keysThenArgs: [
      ...SharedKeys,
      owner: string,
      kind: string,
      limit: number,
      ttl: number,
      fenceIdle: number,
      place: number,
      floor: string,
      grantLease: number,
    ]
  ): Promise<AttemptReply>;
  lockerSharedRelease(
    ...keysThenArgs: [...SharedKeys, owner: string, kind: string, channel: string, fenceIdle: number, floor: string]
  ): Promise<ReleaseReply>;
  lockerSharedLeaveQueue(
    ...keysThenArgs: [...SharedKeys, owner: string, kind: string, channel: string, fenceIdle: number, floor: string]
  ): Promise<number>;
  lockerSharedForceRelease(...keysThenArgs: [...SharedKeys, channel: string, fenceIdle: number]): Promise<number>;
  lockerSharedRenew(keyCount: number, ...keysThenOwnersAndTtls: (string | number)[]): Promise<number[]>;
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
  client.defineCommand('lockerSharedAcquire', { numberOfKeys: 7, lua: announce + SHARED_ACQUIRE_SCRIPT });
  client.defineCommand('lockerSharedRelease', { numberOfKeys: 7, lua: announce + SHARED_RELEASE_SCRIPT });
  client.defineCommand('lockerSharedLeaveQueue', { numberOfKeys: 7, lua: announce + SHARED_LEAVE_QUEUE_SCRIPT });
  client.defineCommand('lockerSharedForceRelease', { numberOfKeys: 7, lua: announce + SHARED_FORCE_RELEASE_SCRIPT });
  client.defineCommand('lockerSharedRenew', { lua: SHARED_RENEW_SCRIPT });
  return client as ScriptedRedis;
}
