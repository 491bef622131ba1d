import type { Cluster, Redis } from 'ioredis';
import { settleWithin } from '../../utils/settle-within';
import { clusterKeySlot } from './redis-cluster-slot';
import { sentinelReplicaView } from './redis-sentinel-replicas';

/**
 * How many replicas must have a write before it counts, for the master that serves a lock: a number, or
 * why no write can count now (a failover is under way, the sentinels never answered).
 */
export type ExpectedReplicas = number | string;

/** Where the replicas that could take over from a lock's master are known. */
export interface ReplicaView {
  expected(lockName: string): ExpectedReplicas | Promise<ExpectedReplicas>;
  /** Look again soon: a write was not acknowledged by every replica expected. */
  refresh(): void;
  stop(): void;
}

/** What the master `connection` did: the write went out on `stream`, and the lock's master is `servingNow` since. */
export interface WriteSent {
  connection?: Redis;
  stream?: unknown;
  servingNow?: Redis;
}

/** A write the replicas that could take over did not all acknowledge: a failover could lose it, so it does not count. */
export class UnreplicatedWriteError extends Error {
  constructor(why: string) {
    super(`redis did not confirm the write on its replicas (${why}); a failover could lose it, so it does not count`);
    this.name = 'UnreplicatedWriteError';
  }
}

/** A failover the driver saw coming: the locks held through the old master are lost now, with `detail`. */
export type OnFailover = (detail: string, reconnect: boolean) => void;

/**
 * Replicated topologies (Sentinel, a Redis Cluster with replicas): a lock write counts only once every
 * replica that could be promoted acknowledged it (WAIT on the same connection, right after the write).
 * Redis replicates asynchronously; in a planned failover the old master goes on accepting writes for
 * seconds after its replica was promoted, so a renewal it accepts can be one the new master never sees.
 * The holder's deadline then counts only from writes the new master has. One server (`addr`) and a
 * cluster without replicas send no WAIT.
 */
export class RedisReplicaAcks {
  private readonly view?: ReplicaView;

  constructor(client: Redis | Cluster, commandTimeout: number, onFailover: OnFailover) {
    if (client.isCluster) this.view = clusterView(client as Cluster);
    else if ((client as Redis).options.sentinels?.length) this.view = sentinelReplicaView(client as Redis, commandTimeout, onFailover);
  }

  /** Whether a write on `lockName` must wait for replicas (false: nothing to wait for, it counts as answered). */
  needed(lockName: string): boolean {
    const expected = this.view?.expected(lockName) ?? 0;
    return expected instanceof Promise || expected !== 0;
  }

  /**
   * Resolves once the replicas expected acknowledged the write just answered (`sent`), within `within`
   * ms; rejects with UnreplicatedWriteError otherwise, and has the view looked at again.
   */
  async acknowledged(sent: WriteSent, lockName: string, within: number): Promise<void> {
    if (!this.view) return;
    const expected = await this.view.expected(lockName);
    if (typeof expected === 'string') throw new UnreplicatedWriteError(expected);
    if (expected === 0) return;
    const { connection, stream } = sent;
    // WAIT counts this connection's own writes: on another one (reconnected, moved) it proves nothing
    if (!connection || connection.stream !== stream || sent.servingNow !== connection) {
      throw new UnreplicatedWriteError('the connection to the master changed before the replicas were asked');
    }
    const timeout = Math.max(1, Math.floor(within / 2));
    const waiting = connection.call('WAIT', expected, timeout) as Promise<number>;
    let acked: number | undefined;
    let refused = '';
    if (await settleWithin(waiting, within)) {
      acked = await waiting.catch((error: Error) => {
        refused = `: WAIT failed: ${error.message}`;
        return undefined;
      });
    }
    if (acked !== undefined && acked >= expected && connection.stream === stream) return;
    this.view.refresh(); // a replica gone for good counts no more; a failover is found sooner
    throw new UnreplicatedWriteError(`${acked ?? 'no'} of ${expected} replicas acknowledged within ${timeout} ms${refused}`);
  }

  stop(): void {
    this.view?.stop();
  }
}

/**
 * A cluster's slot map (CLUSTER SLOTS, refreshed every second) lists each slot's master and its replicas that
 * are not marked failed and have replicated something. After a MOVED, ioredis keeps only the new master for the
 * slot until its refresh answers: writes in those few ms wait for no replica.
 */
function clusterView(cluster: Cluster): ReplicaView {
  return {
    expected: (lockName) => {
      const nodes = cluster.slots[clusterKeySlot(lockName)];
      return nodes ? nodes.length - 1 : 'the cluster has not said yet which master serves the key';
    },
    refresh: () => cluster.refreshSlotsCache(),
    stop: () => undefined,
  };
}
