import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { announcePrelude, MINT_TOKEN, ReleaseAnnouncing } from './redis-script-parts';
import {
  ACQUIRE_SCRIPT,
  FORCE_RELEASE_SCRIPT,
  HANDOFF_SCRIPT,
  KEEP_SCRIPT,
  LEAVE_QUEUE_SCRIPT,
  RAISE_FENCE_SCRIPT,
  RELEASE_LEAN_SCRIPT,
  RELEASE_SCRIPT,
  RENEW_SCRIPT,
  RETAKE_SCRIPT,
  TAKE_FAIR_SCRIPT,
  TAKE_SCRIPT,
} from './redis-scripts';
import {
  SHARED_ACQUIRE_SCRIPT,
  SHARED_FORCE_RELEASE_SCRIPT,
  SHARED_LEAVE_QUEUE_SCRIPT,
  SHARED_RAISE_FENCE_SCRIPT,
  SHARED_RELEASE_LEAN_SCRIPT,
  SHARED_RELEASE_SCRIPT,
  SHARED_RENEW_SCRIPT,
  SHARED_TAKE_SCRIPT,
} from './redis-shared-scripts';

/** KEYS lock, fence, queue, queue leases, queue TTLs. */
export type QueueKeys = [string, string, string, string, string];

/** KEYS writer, holders, tokens, fence, queue, queue leases, queue info (see redis-shared-scripts). */
export type SharedKeys = [string, string, string, string, string, string, string];

/** One attempt's answer: {1, token} taken, {2, token} held already (a grant), {0, ms, fence} busy. */
export type AttemptReply = [1 | 2, string | number] | [0, number, string];

/**
 * A release's answer: 0 not ours; 1 released to no one; 2 not released, someone waits (the lean release:
 * send the full one); {1, owner, token, ...} released and granted to those waiters; 3 or {3} kept for a retake here.
 */
export type ReleaseReply = 0 | 1 | 2 | 3 | [0] | [1, ...string[]] | [3];

/** A handoff's answer: {4, token, passed} handed to the next owner here, else as a release (see HANDOFF_SCRIPT). */
export type HandoffReply = [0] | [1, ...string[]] | [4, string, 0 | 1];

/** The client with our scripts defined on it (EVALSHA, with EVAL after a server restart). */
export type ScriptedRedis = (Redis | Cluster) & LockerCommands;

interface LockerCommands {
  lockerTake(lock: string, fence: string, owner: string, ttl: number): Promise<number>;
  lockerTakeFair(lock: string, fence: string, queue: string, owner: string, ttl: number): Promise<number | null>;
  lockerReleaseLean(lock: string, queue: string, owner: string): Promise<0 | 1 | 2>;
  lockerRaiseFence(lock: string, fence: string, owner: string, floor: string): Promise<number | null>;
  lockerAcquire(
    ...keysThenArgs: [...QueueKeys, fair: string, owner: string, ttl: number, place: number, floor: string, grantLease: number, fair: 0 | 1]
  ): Promise<AttemptReply>;
  lockerRelease(
    ...keysThenArgs: [...QueueKeys, fair: string, owner: string, channel: string, floor: string, keepMs: number, announce: 0 | 1]
  ): Promise<ReleaseReply>;
  lockerKeep(lock: string, queue: string, fair: string, owner: string, keepMs: number): Promise<0 | 1 | 2 | 3>;
  lockerRetake(lock: string, fence: string, keptOwner: string, owner: string, ttl: number): Promise<number>;
  lockerHandoff(
    ...keysThenArgs: [...QueueKeys, fair: string, owner: string, next: string, ttl: number, floor: string, pass: 0 | 1, channel: string]
  ): Promise<HandoffReply>;
  lockerLeaveQueue(...keysThenArgs: [...QueueKeys, owner: string, channel: string, floor: string]): Promise<number>;
  lockerRenew(keyCount: number, ...keysThenOwnersAndTtls: (string | number)[]): Promise<number[]>;
  lockerSharedTake(
    ...keysThenArgs: [
      writer: string,
      holders: string,
      tokens: string,
      fence: string,
      queue: string,
      owner: string,
      kind: string,
      limit: number,
      ttl: number,
    ]
  ): Promise<number | null>;
  lockerSharedAcquire(
    ...keysThenArgs: [
      ...SharedKeys,
      owner: string,
      kind: string,
      limit: number,
      ttl: number,
      place: number,
      floor: string,
      grantLease: number,
    ]
  ): Promise<AttemptReply>;
  lockerSharedReleaseLean(holders: string, tokens: string, queue: string, owner: string): Promise<0 | 1 | 2>;
  lockerSharedRelease(...keysThenArgs: [...SharedKeys, owner: string, kind: string, channel: string, floor: string]): Promise<ReleaseReply>;
  lockerSharedLeaveQueue(...keysThenArgs: [...SharedKeys, owner: string, kind: string, channel: string, floor: string]): Promise<number>;
  lockerForceRelease(...keysThenArgs: [...QueueKeys, channel: string]): Promise<number>;
  lockerSharedForceRelease(...keysThenArgs: [...SharedKeys, channel: string]): Promise<number>;
  lockerSharedRaiseFence(
    ...keysThenArgs: [writer: string, holders: string, tokens: string, fence: string, owner: string, kind: string, floor: string]
  ): Promise<number | null>;
  lockerSharedRenew(keyCount: number, ...keysThenOwnersAndTtls: (string | number)[]): Promise<number[]>;
}

/** The source of every lock script by its SHA1, so that an ACL refusal that names only a script's line can name the command. */
const scriptSources = new Map<string, string>();

/** The Lua of the lock script whose SHA1 is `sha` (see RedisRefusals), if it is one of ours. */
export const lockerScriptLua = (sha: string): string | undefined => scriptSources.get(sha);

/** NOSCRIPT: the server does not have the script (a restart, a failover, SCRIPT FLUSH): send it whole. */
const isNoScript = (error: unknown): boolean => error instanceof Error && error.message.startsWith('NOSCRIPT');

/**
 * One script, sent as a plain EVALSHA command (and as EVAL, which caches it, when the server answers
 * NOSCRIPT). ioredis' defineCommand does the same through a Script object whose extra promises, argument
 * copies and per-socket bookkeeping cost more client CPU than a lock cycle's own code (bench 1c).
 * `keys`: how many of the arguments are keys; undefined: the first argument says.
 */
class LockerScript {
  private readonly sha: string;

  constructor(
    private readonly lua: string,
    private readonly keys?: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
    scriptSources.set(this.sha, lua);
  }

  run(client: Redis | Cluster, args: (string | number)[]): Promise<unknown> {
    const sent =
      this.keys === undefined ? client.evalsha(this.sha, ...(args as [number, ...string[]])) : client.evalsha(this.sha, this.keys, ...args);
    return sent.catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      return this.keys === undefined
        ? client.eval(this.lua, ...(args as [number, ...string[]]))
        : client.eval(this.lua, this.keys, ...args);
    });
  }
}

/**
 * Puts the lock scripts on `client` as methods and returns it typed with them. A script that may tell
 * waiters starts with the `announce(channel, message)` of `announcing`; those of the uncontended path tell no
 * one. One that mints fencing tokens starts with `mint_token(fence)` (MINT_TOKEN).
 */
export function withLockerScripts(client: Redis | Cluster, announcing: ReleaseAnnouncing): ScriptedRedis {
  const announce = announcePrelude(announcing);
  const scripted = client as ScriptedRedis;
  const define = (name: keyof LockerCommands, keys: number | undefined, body: string): void => {
    const lua = body.includes('mint_token(') ? MINT_TOKEN + body : body;
    const script = new LockerScript(lua, keys);
    (scripted as unknown as Record<string, unknown>)[name] = (...args: (string | number)[]) => script.run(client, args);
  };
  define('lockerTake', 2, TAKE_SCRIPT);
  define('lockerTakeFair', 3, TAKE_FAIR_SCRIPT);
  define('lockerReleaseLean', 2, RELEASE_LEAN_SCRIPT);
  define('lockerRaiseFence', 2, RAISE_FENCE_SCRIPT);
  define('lockerAcquire', 6, ACQUIRE_SCRIPT);
  define('lockerRelease', 6, announce + RELEASE_SCRIPT);
  define('lockerKeep', 3, KEEP_SCRIPT);
  define('lockerRetake', 2, RETAKE_SCRIPT);
  define('lockerHandoff', 6, announce + HANDOFF_SCRIPT);
  define('lockerLeaveQueue', 5, announce + LEAVE_QUEUE_SCRIPT);
  define('lockerForceRelease', 5, announce + FORCE_RELEASE_SCRIPT);
  define('lockerRenew', undefined, RENEW_SCRIPT);
  define('lockerSharedTake', 5, SHARED_TAKE_SCRIPT);
  define('lockerSharedAcquire', 7, SHARED_ACQUIRE_SCRIPT);
  define('lockerSharedReleaseLean', 3, SHARED_RELEASE_LEAN_SCRIPT);
  define('lockerSharedRelease', 7, announce + SHARED_RELEASE_SCRIPT);
  define('lockerSharedLeaveQueue', 7, announce + SHARED_LEAVE_QUEUE_SCRIPT);
  define('lockerSharedForceRelease', 7, announce + SHARED_FORCE_RELEASE_SCRIPT);
  define('lockerSharedRaiseFence', 4, SHARED_RAISE_FENCE_SCRIPT);
  define('lockerSharedRenew', undefined, SHARED_RENEW_SCRIPT);
  return scripted;
}
