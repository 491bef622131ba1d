import type { Cluster, Redis } from 'ioredis';
import type { HeldLock } from '../../lock/held-lock';
import { RenewalBatcher } from '../../lock/renewal-batcher';
import { settleWithin } from '../../utils/settle-within';
import { clusterKeySlot } from './redis-cluster-slot';
import { isCommandTimeout } from './redis-connection';
import type { RedisDroppedConnections } from './redis-dropped-connections';
import type { RedisLockRemote } from './redis-lock-remote';
import type { RedisRefusals } from './redis-permission-error';
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

  /** `commandTimeout`: the deadline of every command (the client's `commandTimeout`), and the longest a renewal waits. */
  constructor(
    private readonly client: ScriptedRedis,
    private readonly commandTimeout: number,
    private readonly ownsClient: boolean,
    private readonly dropped: RedisDroppedConnections,
    private readonly refusals: RedisRefusals,
  ) {
    if (client.isCluster) this.slotRenewals = new Map();
  }

  /**
   * Renews the given locks (each with its TTL) in one script; true per lock still ours. All must
   * share one slot in a cluster. A renewal unanswered within a renewal period (a third of the shortest
   * TTL, at most command_timeout) is a lost connection: the server may have restarted behind a silent
   * link and let someone else in, so the connection is dropped and its locks with it.
   */
  async renew(remotes: RedisLockRemote[], ttls: number[]): Promise<boolean[]> {
    const connection = this.connectionServing(remotes[0].lock);
    const stream = connection?.stream;
    const renewing = this.runRenewScripts(remotes, ttls);
    const within = Math.min(this.commandTimeout, Math.ceil(ttls.reduce((a, b) => Math.min(a, b)) / 3));
    // the second look lets a reply that already arrived while this process was busy count
    if ((await settleWithin(renewing, within)) || (await settleWithin(renewing, 0))) {
      try {
        return (await renewing).map((value) => value === 1);
      } catch (error) {
        if (!isCommandTimeout(error)) throw this.refusals.explain(error, remotes[0].lock);
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
