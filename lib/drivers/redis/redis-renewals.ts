import type { Cluster, Redis } from 'ioredis';
import type { HeldLock } from '../../lock/held-lock';
import { RenewalBatcher } from '../../lock/renewal-batcher';
import { monotonicNow } from '../../utils/clock';
import { settleWithin } from '../../utils/settle-within';
import { clusterKeySlot } from './redis-cluster-slot';
import { isCommandTimeout } from './redis-connection';
import type { RedisDroppedConnections } from './redis-dropped-connections';
import type { RedisLockRemote } from './redis-lock-remote';
import type { RedisRefusals } from './redis-permission-error';
import { RedisReplicaAcks } from './redis-replica-acks';
import type { ScriptedRedis } from './redis-scripted-client';
import { heldShared } from './redis-lock-protocols';
import { namesOfLock } from './redis-key-names';

/** Keeps held locks alive: batched renewals, one script per tick (per slot in a cluster). */
export class RedisRenewals {
  private readonly renewals = new RenewalBatcher((locks) => this.renewMany(locks));
  /**
   * Cluster: a script may only touch keys of one slot, and a master that does not answer must hold up
   * only its own locks' renewals, so each slot with locks has its own batcher (one script per slot per tick).
   */
  private readonly slotRenewals?: Map<number, RenewalBatcher>;
  /** Replicated topologies: a renewal counts once the replicas that could take over have it. */
  private readonly replicas: RedisReplicaAcks;

  /** `commandTimeout`: the deadline of every command (the client's `commandTimeout`), and the longest a renewal waits. */
  constructor(
    private readonly client: ScriptedRedis,
    private readonly commandTimeout: number,
    private readonly ownsClient: boolean,
    private readonly dropped: RedisDroppedConnections,
    private readonly refusals: RedisRefusals,
  ) {
    if (client.isCluster) this.slotRenewals = new Map();
    this.replicas = new RedisReplicaAcks(client, commandTimeout, (detail, reconnect) => {
      const master = client as Redis; // Sentinel: one master
      dropped.dropLocksOf(master, detail);
      // to the master the sentinels name now (see sentinelReplicaView: the app's own client too)
      if (reconnect) master.disconnect(true);
    });
  }

  /**
   * Renews the given locks (each with its TTL) in one script; true per lock still ours. All must
   * share one slot in a cluster. A renewal unanswered within a renewal period (a third of the shortest
   * TTL, at most command_timeout) is a lost connection: the server may have restarted behind a silent
   * link and let someone else in, so the connection is dropped and its locks with it.
   */
  async renew(remotes: RedisLockRemote[], ttls: number[]): Promise<boolean[]> {
    const lockName = remotes[0].lock;
    const connection = this.connectionServing(lockName);
    const stream = connection?.stream;
    const renewing = this.runRenewScripts(remotes, ttls);
    const within = Math.min(this.commandTimeout, Math.ceil(ttls.reduce((a, b) => Math.min(a, b)) / 3));
    // the second look lets a reply that already arrived while this process was busy count
    if ((await settleWithin(renewing, within)) || (await settleWithin(renewing, 0))) {
      let replies: number[] | undefined;
      try {
        replies = await renewing;
      } catch (error) {
        if (!isCommandTimeout(error)) throw this.refusals.explain(error, lockName);
      }
      if (replies) {
        // not counted (an error: retried until the deadline) unless the replicas that could take over have it
        if (this.replicas.needed(lockName) && replies.includes(1)) {
          await this.replicas.acknowledged({ connection, stream, servingNow: this.connectionServing(lockName) }, lockName, within);
        }
        return replies.map((value) => value === 1);
      }
    }
    const error = new Error(`redis did not answer a renewal within ${within} ms; the connection is dropped`);
    // unless it closed since (its 'close' lost the locks): then it may be a new, healthy one
    if (connection && stream && connection.stream === stream) {
      this.dropped.dropLocksOf(connection); // now: the caller of extend() learns it with this error
      // ioredis reconnects; an app's own client is left alone (its other commands are not ours to fail)
      if (this.ownsClient) stream.destroy(error);
    }
    throw error;
  }

  /**
   * A lock just taken or granted, before it is handed out: in a replicated topology it counts only once the
   * replicas that could take over have it, so it is renewed (owner-checked) and that renewal acknowledged;
   * if not, it is released and the error thrown. Nothing is sent where there are no replicas.
   */
  confirmReplicated(lock: HeldLock, askedAt: number): HeldLock | Promise<HeldLock> {
    if (this.dropped.droppedSince(askedAt)) {
      // answered, maybe, by the server or master the locks held then were given up for (a planned failover's old master)
      lock.release().catch(() => undefined); // owner-checked: frees it where the server has it as ours
      return Promise.reject(
        new Error('the connection to redis dropped, or its master failed over, while the lock was taken; it does not count'),
      );
    }
    // one server, or a master without replicas: handed out as it is, not even a promise made
    return this.replicas.needed((lock.remote as RedisLockRemote).lock) ? this.renewOnReplicas(lock) : lock;
  }

  private async renewOnReplicas(lock: HeldLock): Promise<HeldLock> {
    const remote = lock.remote as RedisLockRemote;
    const sentAt = monotonicNow();
    try {
      const [ours] = await this.renew([remote], [lock.ttl]);
      if (!ours) throw new Error(`redis no longer has lock "${lock.key}" under our token right after it was taken`);
    } catch (error) {
      lock.release().catch(() => undefined); // owner-checked: frees it where the master still has it as ours
      throw error;
    }
    if (lock.keepAlive) lock.confirm(sentAt, lock.ttl);
    return lock;
  }

  /** See RenewalBatcher.track. */
  track(lock: HeldLock, firstDueAt?: number): void {
    if (!this.slotRenewals) return this.renewals.track(lock, firstDueAt);
    const slot = clusterKeySlot((lock.remote as RedisLockRemote).lock);
    let renewals = this.slotRenewals.get(slot);
    if (!renewals) {
      renewals = new RenewalBatcher((locks) => this.renewMany(locks));
      this.slotRenewals.set(slot, renewals);
    }
    renewals.track(lock, firstDueAt);
  }

  untrack(lock: HeldLock): void {
    if (!this.slotRenewals) return this.renewals.untrack(lock);
    const slot = clusterKeySlot((lock.remote as RedisLockRemote).lock);
    const renewals = this.slotRenewals.get(slot);
    renewals?.untrack(lock);
    if (renewals?.size === 0) this.slotRenewals.delete(slot);
  }

  stop(): void {
    this.replicas.stop();
    this.renewals.stop();
    this.slotRenewals?.forEach((renewals) => renewals.stop());
  }

  /** The connection that carries commands on `lockName`: the client, or in a cluster its slot's master. */
  private connectionServing(lockName: string): Redis | undefined {
    if (!this.client.isCluster) return this.client as Redis;
    const cluster = this.client as Cluster;
    const address = cluster.slots[clusterKeySlot(lockName)]?.[0];
    return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address);
  }

  /**
   * The renew script of each kind of hold, in one batch each: a lock key's owner (a mutex, a leader, a
   * writer) or a shared holder (a permit, a reader). The answers come back in the order of `remotes`.
   */
  private async runRenewScripts(remotes: RedisLockRemote[], ttls: number[]): Promise<number[]> {
    const shared = remotes.map((remote) => heldShared(remote.kind));
    const run = async (inSet: boolean): Promise<number[]> => {
      const picked = remotes.flatMap((remote, index) => (shared[index] === inSet ? [index] : []));
      if (picked.length === 0) return [];
      const args = picked.flatMap((index) => [remotes[index].owner, ttls[index]]);
      if (!inSet) return this.client.lockerRenew(picked.length, ...picked.map((index) => remotes[index].lock), ...args);
      return this.client.lockerSharedRenew(picked.length, ...picked.map((index) => namesOfLock(remotes[index].lock).holders), ...args);
    };
    const [keyed, inSets] = await Promise.all([run(false), run(true)]);
    let nextKeyed = 0;
    let nextInSet = 0;
    return shared.map((inSet) => (inSet ? inSets[nextInSet++] : keyed[nextKeyed++]));
  }

  private renewMany(locks: HeldLock[]): Promise<boolean[]> {
    return this.renew(
      locks.map((lock) => lock.remote as RedisLockRemote),
      locks.map((lock) => lock.ttl),
    );
  }
}
