import { isPassingFault } from '../../errors/passing-fault';
import type { LockKind } from '../../acquisition/lock-kind';
import type { LocalWaitQueues } from '../../lock/local-wait-queues';
import type { RedisCohorts } from './redis-cohorts';
import type { RedisDroppedConnections } from './redis-dropped-connections';
import type { QueuedHead, RedisGrants } from './redis-grants';
import { namesOfLock, RedisKeyNames } from './redis-key-names';
import { handOff, keepForRetake, RedisLockProtocol, ReleaseHow } from './redis-lock-protocols';
import { KEEP_MS } from './redis-cohorts';
import { NO_KEEP, RedisLockRemote, RedisLockServer, WAITED_FOR } from './redis-lock-remote';
import type { HandoffReply, ReleaseReply, ScriptedRedis } from './redis-scripted-client';
import { monotonicNow } from '../../utils/clock';
import type { RedisWriteBatching } from './redis-write-batching';
import type { RedisRefusals } from './redis-permission-error';

/** The release of a lock no one was seen waiting for: the short script (one object for all of them). */
const LEAN: ReleaseHow = { lean: true, keepMs: 0, announce: false };

/** What a release needs of the driver. */
export interface ReleaseContext {
  server: RedisLockServer;
  client: ScriptedRedis;
  protocolOf(kind: LockKind): RedisLockProtocol;
  queues: LocalWaitQueues;
  grants: RedisGrants;
  cohorts: RedisCohorts;
  writes: RedisWriteBatching;
  dropped: RedisDroppedConnections;
  /** Names what an ACL refusal lacks. */
  refusals: RedisRefusals;
  /** The highest token the driver was given (see NEXT_TOKEN). */
  floor(): string;
}

/**
 * How a lock is given back, owner-checked. A lock no one was seen waiting for goes by the short script;
 * one someone waited for, by the script that grants it to the first waiters, or keeps a hot default-mode
 * mutex for a retake here (see RedisCohorts). The answer is acted on here: grants to a waiter of this
 * process are taken at once, a kept lock is offered to this process, a waiter here not yet queued is woken.
 */
export class RedisReleases {
  constructor(private readonly context: ReleaseContext) {}

  /** `flags`: see RedisLockRemote. Rejects when the server did not answer (the release is sent again once it is back). */
  async release(lockName: string, owner: string, kind: LockKind, flags: number): Promise<void> {
    const { context } = this;
    const names = namesOfLock(lockName);
    const next = kind === 'lock' ? context.grants.headOf(lockName) : undefined;
    if (next) return this.handOff(names, owner, next, flags);
    const protocol = context.protocolOf(kind);
    // a leader's release tells listeners even when no one is queued: an election's observers are not
    const waitedFor = (flags & WAITED_FOR) !== 0 || kind === 'leader' || context.queues.isWaitedOn(lockName);
    const keep = kind === 'lock' && !(flags & NO_KEEP) && context.cohorts.mayPassOver(lockName);
    context.writes.beforeSend();
    let reply: ReleaseReply;
    try {
      if (!waitedFor) reply = await protocol.release(names, owner, kind, context.floor(), LEAN);
      else if (keep) reply = await keepForRetake(context.client, names, owner, KEEP_MS);
      else reply = await protocol.release(names, owner, kind, context.floor(), this.full(lockName, kind, flags));
      // someone waits after all (or a fair waiter, whom no one passes over): the full script grants it on
      if (reply === 2) reply = await protocol.release(names, owner, kind, context.floor(), this.full(lockName, kind, flags));
    } catch (error) {
      // No answer: the server may still have it, or run it late. Owner-checked, so sent again when the connection
      // is back; one the server refused would only be refused again
      if (isPassingFault(error))
        context.dropped.releaseWhenBack(new RedisLockRemote(context.server, lockName, owner, kind, flags | NO_KEEP));
      throw context.refusals.explain(error, lockName);
    }
    this.released(lockName, owner, reply);
  }

  /**
   * A mutex with a waiter of this process: handed to it in the same round trip (HANDOFF_SCRIPT), passing over
   * the next process in line only in the default mode (the releaser's and the waiter's) and within its run's share.
   */
  private async handOff(names: RedisKeyNames, owner: string, next: QueuedHead, flags: number): Promise<void> {
    const { context } = this;
    const lockName = names.lock;
    const pass = !(flags & NO_KEEP) && !next.fair && context.cohorts.mayPassOver(lockName);
    const sentAt = monotonicNow();
    context.writes.beforeSend();
    let reply: HandoffReply;
    try {
      reply = await handOff(context.client, names, owner, next, context.floor(), pass);
    } catch (error) {
      if (isPassingFault(error))
        context.dropped.releaseWhenBack(new RedisLockRemote(context.server, lockName, owner, 'lock', flags | NO_KEEP));
      throw context.refusals.explain(error, lockName);
    }
    if (reply[0] !== 4) {
      this.released(lockName, owner, reply);
      return context.queues.wakeHead(lockName); // not handed over: the waiter here takes its place in line
    }
    if (reply[2] === 1) context.cohorts.passed(lockName);
    else context.cohorts.ended(lockName);
    // the waiter gave up meanwhile (its leave went before this): the lock goes on, owner-checked
    if (!context.grants.handedOff(lockName, next.owner, reply[1], sentAt))
      this.release(lockName, next.owner, 'lock', flags | NO_KEEP).catch(() => undefined);
  }

  /** The release that grants the lock on, or keeps a default-mode mutex for a retake here; a leader's tells listeners. */
  private full(lockName: string, kind: LockKind, flags: number): ReleaseHow {
    const keepMs = flags & NO_KEEP || kind !== 'lock' ? 0 : this.context.cohorts.keepFor(lockName);
    return { lean: false, keepMs, announce: kind === 'leader' };
  }

  /** What the answer means here: grants to take, a lock kept for a retake, a waiter to wake. */
  private released(lockName: string, owner: string, reply: ReleaseReply): void {
    const { cohorts, queues, grants } = this.context;
    if (reply === 0 || reply === 2) return;
    if (reply === 3 || (typeof reply !== 'number' && reply[0] === 3)) {
      cohorts.kept(lockName, owner);
      return queues.wakeHead(lockName); // a waiter here takes it back
    }
    cohorts.ended(lockName);
    if (reply === 1 || reply.length === 1) {
      if (reply === 1 || reply[0] === 1) queues.wakeHead(lockName); // released to no one: a waiter here not yet queued may take it
      return;
    }
    // granted to waiters, maybe one here: it takes the lock now, without waiting for the message
    for (let i = 1; i + 1 < reply.length; i += 2) grants.granted(lockName, String(reply[i]), String(reply[i + 1]));
  }
}
