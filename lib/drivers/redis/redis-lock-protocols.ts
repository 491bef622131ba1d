import type { LockKind } from '../../acquisition/lock-kind';
import type { AcquireRequest } from '../../interfaces/locker-driver.interface';
import type { RedisKeyNames } from './redis-key-names';
import { FENCE_IDLE_MS } from './redis-scripts';
import type { AttemptReply, ReleaseReply, ScriptedRedis, SharedKeys } from './redis-scripted-client';

/**
 * How the locks of one namespace are taken and given back on redis: the scripts of their kinds. The
 * driver's machinery (waiting, grants, keep-alive, deadlines) is the same for all of them.
 */
export interface RedisLockProtocol {
  /**
   * One attempt for `owner`; a waiter (`place` > 0) takes or renews its place in the queue, and a grant
   * to it gets `grantLease`. `floor`: the highest token the driver was given (see next_token).
   */
  attempt(
    names: RedisKeyNames,
    owner: string,
    request: AcquireRequest,
    place: number,
    floor: string,
    grantLease: number,
  ): Promise<AttemptReply>;
  /** Owner-checked release, granting the lock on to the waiters its kind's rule lets in. */
  release(names: RedisKeyNames, owner: string, kind: LockKind, floor: string): Promise<ReleaseReply>;
  /** A waiter gives up its place (and a hold granted to it meanwhile). */
  leaveQueue(names: RedisKeyNames, owner: string, kind: LockKind, floor: string): Promise<number>;
}

/** A mutex and a leader: one holder, the lock key's owner. */
export const exclusiveProtocol = (client: ScriptedRedis): RedisLockProtocol => {
  const queueArgs = (names: RedisKeyNames, owner: string, floor: string) =>
    [names.lock, names.fence, names.queue, names.queueLeases, names.queueTtls, owner, names.channel, FENCE_IDLE_MS, floor] as const;
  return {
    attempt: (names, owner, request, place, floor, grantLease) =>
      client.lockerAcquire(
        names.lock,
        names.fence,
        names.queue,
        names.queueLeases,
        names.queueTtls,
        owner,
        request.ttl,
        FENCE_IDLE_MS,
        place,
        floor,
        grantLease,
      ),
    release: (names, owner, _kind, floor) => client.lockerRelease(...queueArgs(names, owner, floor)),
    leaveQueue: (names, owner, _kind, floor) => client.lockerLeaveQueue(...queueArgs(names, owner, floor)),
  };
};

/** The script's letter of a kind that shares its key. */
const KIND_LETTER: Partial<Record<LockKind, string>> = { permit: 'p', read: 'r', write: 'w' };

export const sharedKeys = (names: RedisKeyNames): SharedKeys => [
  names.lock,
  names.holders,
  names.tokens,
  names.fence,
  names.queue,
  names.queueLeases,
  names.queueTtls,
];

/** Permits and read/write locks: one rule over one queue (see redis-shared-scripts). */
export const sharedProtocol = (client: ScriptedRedis): RedisLockProtocol => ({
  attempt: (names, owner, request, place, floor, grantLease) =>
    client.lockerSharedAcquire(
      ...sharedKeys(names),
      owner,
      KIND_LETTER[request.kind] as string,
      request.limit ?? 0,
      request.ttl,
      FENCE_IDLE_MS,
      place,
      floor,
      grantLease,
    ),
  release: (names, owner, kind, floor) =>
    client.lockerSharedRelease(...sharedKeys(names), owner, KIND_LETTER[kind] as string, names.channel, FENCE_IDLE_MS, floor),
  leaveQueue: (names, owner, kind, floor) =>
    client.lockerSharedLeaveQueue(...sharedKeys(names), owner, KIND_LETTER[kind] as string, names.channel, FENCE_IDLE_MS, floor),
});

/** Whether a lock of `kind` is held in the shared holders' sorted set (else as the exclusive lock key). */
export const heldShared = (kind: LockKind): boolean => kind === 'permit' || kind === 'read';
