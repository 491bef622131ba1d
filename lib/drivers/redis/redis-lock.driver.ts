import type { Cluster, Redis } from 'ioredis';
import { AbstractLockerDriver } from '../abstract-locker.driver';
import { LockKind, namespaceOf } from '../../acquisition/lock-kind';
import type { HeldLock } from '../../lock/held-lock';
import { LocalWaitQueues, Turn } from '../../lock/local-wait-queues';
import { WaitScope } from '../../lock/wait-scope';
import type { Lock } from '../../interfaces/lock.interface';
import { redisOwnerPrefix } from '../../inspection/lock-holder';
import type { LeaderInfo } from '../../interfaces/election.interface';
import type { AcquireRequest, DriverContext, LeaderWatch } from '../../interfaces/locker-driver.interface';
import { redisKeyNames, RedisKeyNames, releasedChannel } from './redis-key-names';
import { settleWithin } from '../../utils/settle-within';
import { commandTimeoutOf, quitWithin } from './redis-connection';
import { RedisDroppedConnections } from './redis-dropped-connections';
import { RedisInspection } from './redis-inspection';
import { RedisLeadership } from './redis-leadership';
import { NO_KEEP, RedisLockRemote, RedisLockServer, WAITED_FOR } from './redis-lock-remote';
import { releaseListening, SubscriberConnection } from './redis-release-channels';
import { RedisRefusals } from './redis-permission-error';
import { probeRedisPermissions } from './redis-permission-probe';
import { quietContext } from '../permission-probe';
import { RedisReleaseSubscriber } from './redis-release-subscriber';
import { RedisRenewals } from './redis-renewals';
import { ScriptedRedis, withLockerScripts } from './redis-scripted-client';
import type { ReleaseAnnouncing } from './redis-script-parts';
import { exclusiveProtocol, RedisLockProtocol, sharedProtocol } from './redis-lock-protocols';
import { FAIR_PLACE_MS, mayRetake, RedisAttempts } from './redis-attempts';
import { RedisReleases } from './redis-releases';
import { RedisCohorts } from './redis-cohorts';
import { RedisGrants } from './redis-grants';
import { RedisWriteBatching } from './redis-write-batching';

/** When a waiter should re-check if no release was announced (lease of a dead holder ran out). */
const PTTL_SLACK_MS = 1;

/**
 * The most close() waits for the leaves of the queue still on their way before it sends QUIT: a script the
 * server lacks (NOSCRIPT: a fresh master, a restart, a failover) goes again as EVAL one round trip later.
 */
const LEAVES_AT_CLOSE_MS = 1_000;

const DROPPED = 'the connection to redis dropped; the server may have restarted without it';

export class RedisLockDriver extends AbstractLockerDriver implements RedisLockServer {
  readonly type = 'redis';
  readonly kinds: readonly LockKind[] = ['lock', 'permit', 'read', 'write', 'leader'];
  private readonly client: ScriptedRedis;
  /** The scripts of each namespace: a mutex's (one holder), and those of the kinds that share a key. */
  private readonly exclusive: RedisLockProtocol;
  private readonly shared: RedisLockProtocol;
  private readonly subscriber: RedisReleaseSubscriber;
  private readonly leadership: RedisLeadership;
  /** Local waiters per lock name: only the first contends with the server, woken by published releases. */
  private readonly queues: LocalWaitQueues;
  /** Per lock name, the local waiter that is first here (and so in the server's queue), and grants to it. */
  private readonly grants = new RedisGrants((lock) => this.queues.wakeHead(lock), FAIR_PLACE_MS);
  /** Default-mode hot mutexes kept at release for a retake here, a bounded number of times (cohort handoff). */
  private readonly cohorts = new RedisCohorts((lock, owner) => {
    this.release(lock, owner, 'lock', WAITED_FOR | NO_KEEP).catch(() => undefined);
  });
  /** Owner ids are this prefix (a random id and who we are) and a counter: unique everywhere, and short to keep per lock. */
  private readonly ownerPrefix = redisOwnerPrefix(this.holder);
  private owners = 0;
  private readonly renewals: RedisRenewals;
  private readonly dropped: RedisDroppedConnections;
  private readonly writes: RedisWriteBatching;
  /** The deadline of every command (the client's `commandTimeout`), and the longest a renewal waits. */
  private readonly commandTimeout: number;
  private readonly attempts: RedisAttempts;
  private readonly releases: RedisReleases;
  /** Mutexes a lock of this driver holds now (by lock name): a default-mode waiter here waits for its release to hand over. */
  private readonly heldHere = new Map<string, number>();
  /** Waiters' leaves of the server's queue not yet answered (see LEAVES_AT_CLOSE_MS). */
  private readonly leaving = new Set<Promise<unknown>>();

  /**
   * `client` must be connected; the driver defines its scripts on it and closes it in `close()` when `ownsClient`.
   * `openSubscriber` opens the connection that hears releases (default: a duplicate of a single-server client);
   * `announcing` is how the scripts tell of them (SPUBLISH: `openSubscriber` opens a cluster client with sharded subscribers).
   */
  constructor(
    client: Redis | Cluster,
    context: DriverContext,
    private readonly ownsClient = true,
    private readonly openSubscriber: () => SubscriberConnection = () => (client as Redis).duplicate(),
    private readonly announcing: ReleaseAnnouncing = 'PUBLISH',
    /** The server's ACL refusals, as errors that name what the user lacks (a probe's copy shares its driver's). */
    private readonly refusals = new RedisRefusals(client, context.instanceId, ownsClient),
  ) {
    super(context);
    this.client = withLockerScripts(client, announcing);
    this.exclusive = exclusiveProtocol(this.client);
    this.shared = sharedProtocol(this.client);
    this.commandTimeout = commandTimeoutOf(client);
    this.writes = new RedisWriteBatching(client, ownsClient);
    this.dropped = new RedisDroppedConnections(client, (which, detail = DROPPED) => this.loseAll('disconnected', detail, which));
    this.renewals = new RedisRenewals(this.client, this.commandTimeout, ownsClient, this.dropped, this.refusals);
    this.subscriber = new RedisReleaseSubscriber(openSubscriber, this.commandTimeout, releaseListening(announcing));
    this.leadership = new RedisLeadership(client, this.subscriber, announcing);
    this.inspection = new RedisInspection(this.client, this.commandTimeout);
    this.queues = new LocalWaitQueues((lock) => {
      // a grant names its waiter: only that waiter's process acts on it
      const listening = this.subscriber.listen(releasedChannel(lock), (message) => this.grants.heard(lock, message));
      return { ready: listening.ready, close: () => listening.stop() };
    });
    this.attempts = new RedisAttempts({
      server: this,
      client: this.client,
      protocolOf: (kind) => this.protocolOf(kind),
      grants: this.grants,
      cohorts: this.cohorts,
      writes: this.writes,
      renewals: this.renewals,
      refusals: this.refusals,
      hold: (request, granted) => {
        if (request.kind === 'lock') this.noteHeld((granted.remote as RedisLockRemote).lock, 1);
        return this.hold(request, granted);
      },
      release: (lock, owner, kind, flags) => this.release(lock, owner, kind, flags),
    });
    this.releases = new RedisReleases({
      server: this,
      client: this.client,
      protocolOf: (kind) => this.protocolOf(kind),
      queues: this.queues,
      grants: this.grants,
      cohorts: this.cohorts,
      writes: this.writes,
      dropped: this.dropped,
      refusals: this.refusals,
      floor: () => this.attempts.floor,
    });
  }

  /**
   * Connections this driver uses: the command connection, plus the shared subscriber once someone waited
   * (with sharded pub/sub that one is a cluster client, itself with a connection per master where keys are waited on).
   */
  get connectionCount(): number {
    return 1 + this.subscriber.connectionCount;
  }

  /**
   * A lock kept here at its release is taken back; else, while no one here waits for the key (nor did
   * lately), one short script takes it if free (the uncontended path). A busy or contended key is waited
   * for in the server's queue, first by this process's first waiter only.
   */
  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const names = redisKeyNames(request.keyPrefix, request.key, namespaceOf(request.kind));
    const scope = new WaitScope(request);
    scope.check();
    // One owner per call: a retried attempt whose first reply was lost finds its own lock, not a stranger's.
    const owner = this.ownerId(++this.owners);
    if (mayRetake(request) && this.cohorts.isKept(names.lock) && !this.queues.hasWaiters(names.lock)) {
      const retaken = await this.attempts.retake(names, request, owner);
      if (retaken) return retaken;
    }
    // held here (or waited for lately) it is certainly busy: wait without asking
    if (!this.queues.isWaitedOn(names.lock) && !this.heldHere.has(names.lock)) {
      const taken = await this.attempts.take(names, request, owner);
      if (typeof taken !== 'string') return taken;
      if (!request.wait && taken === 'busy') return null;
      scope.check(); // ended (deadline, abort, shutdown) while that take was answered: it does not go on to queue
    }
    if (!request.wait) {
      const result = await this.attempts.attempt(names, request, owner);
      return typeof result === 'number' ? null : result;
    }
    return this.queues.take(names.lock, scope, (turn) => this.waitAsHead(names, request, owner, turn, scope));
  }

  /** Elections: see RedisLeadership. */
  proclaim(lock: Lock, value: string | undefined): Promise<boolean> {
    return this.leadership.proclaim(lock as HeldLock, value);
  }

  leader(keyPrefix: string, name: string): Promise<LeaderInfo | null> {
    return this.leadership.leader(keyPrefix, name);
  }

  watchLeader(keyPrefix: string, name: string, look: (leader: LeaderInfo | null) => void): LeaderWatch {
    return this.leadership.watch(keyPrefix, name, look);
  }

  /** LockerDriver.probe, on a copy of this driver (see probeRedisPermissions). */
  probe(keyPrefix: string): Promise<void> {
    const { client, openSubscriber, announcing, refusals, commandTimeout } = this;
    const copyOf = () => new RedisLockDriver(client, quietContext(this.instanceId), false, openSubscriber, announcing, refusals);
    return probeRedisPermissions(
      { copy: copyOf(), waiterCopy: copyOf(), client, refusals, openSubscriber, listening: releaseListening(announcing), commandTimeout },
      keyPrefix,
    );
  }

  async close(): Promise<void> {
    this.leadership.close();
    this.cohorts.passOnAll();
    this.renewals.stop();
    this.grants.stop();
    this.queues.closeLingering();
    this.dropped.stopListening();
    if (this.leaving.size > 0) await settleWithin(Promise.all(this.leaving), Math.min(this.commandTimeout, LEAVES_AT_CLOSE_MS));
    await Promise.all([this.subscriber.close(), this.ownsClient && quitWithin(this.client, this.commandTimeout)]);
  }

  protected onSettled(lock: HeldLock): void {
    this.renewals.untrack(lock);
    if (lock.kind === 'lock') this.noteHeld((lock.remote as RedisLockRemote).lock, -1);
  }

  private noteHeld(lockName: string, change: number): void {
    const held = (this.heldHere.get(lockName) ?? 0) + change;
    if (held > 0) this.heldHere.set(lockName, held);
    else this.heldHere.delete(lockName);
  }

  protected override onExtended(lock: HeldLock): void {
    if (lock.keepAlive) this.renewals.track(lock);
  }

  /**
   * The first local waiter: asks, and takes a place in the server's queue; then sleeps until a release
   * grants it the lock, renewing its place (and so `since`) every third of FAIR_PLACE_MS or of its TTL.
   * It asks again when that sleep ends, so a holder that died without releasing is outlived.
   */
  private async waitAsHead(names: RedisKeyNames, request: AcquireRequest, owner: string, turn: Turn, scope: WaitScope): Promise<Lock> {
    const head = this.grants.enter(names.lock, owner, request);
    let lookedLocally = false;
    try {
      for (;;) {
        if (head.handedOff) return this.attempts.holdHandedOff(names, request, owner, head.handedOff);
        // a lock kept here at its release; only while this waiter has no place in the server's queue
        if (mayRetake(request) && head.since === undefined && this.cohorts.isKept(names.lock)) {
          const retaken = await this.attempts.retake(names, request, owner);
          if (retaken) return retaken;
        }
        turn.attempting();
        if (mayRetake(request) && this.heldHere.has(names.lock)) {
          // Held here: its release hands it over to this waiter (or wakes it to take its place in line). It still
          // looks every third of FAIR_PLACE_MS (or of its TTL), as a queued waiter asks again: the holder here may
          // have lost the key without knowing yet (deleted, force-released, a restart), until its next renewal.
          if (lookedLocally) {
            const taken = await this.attempts.take(names, request, owner);
            if (typeof taken !== 'string') return taken;
          }
          lookedLocally = true;
          if (!head.handedOff) await turn.sleep(Math.min(FAIR_PLACE_MS / 3, request.ttl / 3));
          continue;
        }
        const result = await this.attempts.attempt(names, request, owner, head);
        if (typeof result !== 'number') return result;
        // a grant may have been heard while the attempt was in flight
        if (head.grantedToken === undefined && !head.handedOff) {
          await turn.sleep(Math.min(result + PTTL_SLACK_MS, FAIR_PLACE_MS / 3, request.ttl / 3));
        }
        if (head.grantedToken === undefined) continue;
        scope.check(); // a grant heard after the wait's deadline or abort is passed on (below), not taken
        return this.attempts.holdGranted(names, request, owner, head.grantedToken, head);
      }
    } catch (error) {
      // if a release granted us the lock meanwhile, the script gives it to the next waiter
      const leave = this.protocolOf(request.kind)
        .leaveQueue(names, owner, request.kind, this.attempts.floor)
        .catch(() =>
          this.grants.abandon(owner, (lock) => {
            this.release(lock, owner, request.kind, WAITED_FOR | NO_KEEP).catch(() => undefined);
          }),
        );
      this.leaving.add(leave);
      void leave.finally(() => this.leaving.delete(leave));
      throw error;
    } finally {
      this.grants.leave(names.lock, head);
    }
  }

  /** @internal The owner id with counter `serial`, and back: a held lock keeps the number, not the (long) id. */
  ownerId(serial: number): string {
    return this.ownerPrefix + serial.toString(36);
  }

  /** @internal See ownerId. */
  ownerSerial(owner: string): number {
    return parseInt(owner.slice(this.ownerPrefix.length), 36);
  }

  /**
   * @internal owner-checked release, for RedisLockRemote: see RedisReleases. `flags`: see RedisLockRemote.
   */
  release(lockName: string, owner: string, kind: LockKind, flags = 0): Promise<void> {
    return this.releases.release(lockName, owner, kind, flags);
  }

  private protocolOf(kind: LockKind): RedisLockProtocol {
    return kind === 'lock' || kind === 'leader' ? this.exclusive : this.shared;
  }

  /** @internal See RedisRenewals.renew. */
  renew(remotes: RedisLockRemote[], ttls: number[]): Promise<boolean[]> {
    return this.renewals.renew(remotes, ttls);
  }
}
