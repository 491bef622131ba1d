import type { LockKind } from '../../acquisition/lock-kind';
import type { AcquireRequest } from '../../interfaces/locker-driver.interface';
import type { RedisKeyNames } from './redis-key-names';
import type { AttemptReply, HandoffReply, QueueKeys, ReleaseReply, ScriptedRedis, SharedKeys } from './redis-scripted-client';

/** How a release is sent. */
export interface ReleaseHow {
  /** No one is expected to wait: the short script, which answers 2 (and frees nothing) if someone does. */
  lean: boolean;
  /** > 0: a hot mutex may be kept this long for a retake in this process (see RedisCohorts). */
  keepMs: number;
  /** Announce a release to no one too (an empty message), for listeners that are not queued. */
  announce: boolean;
}

/**
 * How the locks of one namespace are taken and given back on redis: the scripts of their kinds. The
 * driver's machinery (waiting, grants, keep-alive, deadlines) is the same for all of them.
 */
export interface RedisLockProtocol {
  /**
   * The uncontended path, one short script: the token when taken (minus the token when the fence was
   * seeded from the server clock alone), 0 when busy, null when someone is queued (`attempt` decides then).
   */
  take(names: RedisKeyNames, owner: string, request: AcquireRequest): Promise<number | null>;
  /**
   * One attempt for `owner` that minds the queue; a waiter (`place` > 0) takes or renews its place in it,
   * and a grant to it gets `grantLease`. `floor`: the highest token the driver was given (see NEXT_TOKEN).
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
  release(names: RedisKeyNames, owner: string, kind: LockKind, floor: string, how: ReleaseHow): Promise<ReleaseReply>;
  /** A waiter gives up its place (and a hold granted to it meanwhile). */
  leaveQueue(names: RedisKeyNames, owner: string, kind: LockKind, floor: string): Promise<number>;
  /** Our hold's token set above `floor` (a seed behind it): the new token, or null when it is not ours. */
  raiseFence(names: RedisKeyNames, owner: string, kind: LockKind, floor: string): Promise<number | string | null>;
}

const queueKeys = (names: RedisKeyNames): QueueKeys => [names.lock, names.fence, names.queue, names.queueLeases, names.queueTtls];

/** A mutex and a leader: one holder, the lock key's owner. */
export const exclusiveProtocol = (client: ScriptedRedis): RedisLockProtocol => ({
  take: (names, owner, request) =>
    request.fair
      ? client.lockerTakeFair(names.lock, names.fence, names.queue, owner, request.ttl)
      : client.lockerTake(names.lock, names.fence, owner, request.ttl),
  attempt: (names, owner, request, place, floor, grantLease) =>
    client.lockerAcquire(...queueKeys(names), names.queueFair, owner, request.ttl, place, floor, grantLease, request.fair ? 1 : 0),
  release: (names, owner, _kind, floor, how) =>
    how.lean
      ? client.lockerReleaseLean(names.lock, names.queue, owner)
      : client.lockerRelease(...queueKeys(names), names.queueFair, owner, names.channel, floor, how.keepMs, how.announce ? 1 : 0),
  leaveQueue: (names, owner, _kind, floor) => client.lockerLeaveQueue(...queueKeys(names), owner, names.channel, floor),
  raiseFence: (names, owner, _kind, floor) => client.lockerRaiseFence(names.lock, names.fence, owner, floor),
});

/** A hot default-mode mutex kept at its release for a retake here (see KEEP_SCRIPT): 3 kept, 1 freed, 0 not ours, 2 see RELEASE_SCRIPT. */
export const keepForRetake = (client: ScriptedRedis, names: RedisKeyNames, owner: string, keepMs: number): Promise<0 | 1 | 2 | 3> =>
  client.lockerKeep(names.lock, names.queue, names.queueFair, owner, keepMs);

/** A mutex kept at its release, taken back by a new owner of the same process: see RETAKE_SCRIPT. */
export const retakeKept = (client: ScriptedRedis, names: RedisKeyNames, keptOwner: string, owner: string, ttl: number): Promise<number> =>
  client.lockerRetake(names.lock, names.fence, keptOwner, owner, ttl);

/**
 * Our release of a mutex that hands it to `next`, a waiter of this process, in the same step, unless a
 * waiter of another process is first in line and may not be passed over (`pass` false): see HANDOFF_SCRIPT.
 */
export const handOff = (
  client: ScriptedRedis,
  names: RedisKeyNames,
  owner: string,
  next: { owner: string; ttl: number },
  floor: string,
  pass: boolean,
): Promise<HandoffReply> =>
  client.lockerHandoff(...queueKeys(names), names.queueFair, owner, next.owner, next.ttl, floor, pass ? 1 : 0, names.channel);

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
  take: (names, owner, request) =>
    client.lockerSharedTake(
      names.lock,
      names.holders,
      names.tokens,
      names.fence,
      names.queue,
      owner,
      KIND_LETTER[request.kind] as string,
      request.limit ?? 0,
      request.ttl,
    ),
  attempt: (names, owner, request, place, floor, grantLease) =>
    client.lockerSharedAcquire(
      ...sharedKeys(names),
      owner,
      KIND_LETTER[request.kind] as string,
      request.limit ?? 0,
      request.ttl,
      place,
      floor,
      grantLease,
    ),
  release: (names, owner, kind, floor, how) => {
    if (!how.lean) return client.lockerSharedRelease(...sharedKeys(names), owner, KIND_LETTER[kind] as string, names.channel, floor);
    // a writer holds the lock key as a mutex does
    if (kind === 'write') return client.lockerReleaseLean(names.lock, names.queue, owner);
    return client.lockerSharedReleaseLean(names.holders, names.tokens, names.queue, owner);
  },
  leaveQueue: (names, owner, kind, floor) =>
    client.lockerSharedLeaveQueue(...sharedKeys(names), owner, KIND_LETTER[kind] as string, names.channel, floor),
  raiseFence: (names, owner, kind, floor) =>
    client.lockerSharedRaiseFence(names.lock, names.holders, names.tokens, names.fence, owner, KIND_LETTER[kind] as string, floor),
});

/** Whether a lock of `kind` is held in the shared holders' sorted set (else as the exclusive lock key). */
export const heldShared = (kind: LockKind): boolean => kind === 'permit' || kind === 'read';
