import type { Cluster, Redis } from 'ioredis';
import type { HeldLock } from '../../lock/held-lock';
import { monotonicNow } from '../../utils/clock';
import { clusterKeySlot } from './redis-cluster-slot';
import type { RedisLockRemote } from './redis-lock-remote';

/** Gives up the held locks `which` selects (all by default), saying why if `detail` is given, and returns them. */
export type LoseLocks = (which?: (lock: HeldLock) => boolean, detail?: string) => HeldLock[];

/**
 * A dropped connection may be a server restarted without its data: then a waiter elsewhere can take our
 * locks the moment it reconnects, before any renewal of ours could learn of it. So they are lost now.
 */
export class RedisDroppedConnections {
  /** Locks given up when a connection dropped, or whose release got no answer: to release once it is back. */
  private readonly droppedRemotes: RedisLockRemote[] = [];
  /** Monotonic time locks were last given up for a dropped connection or a failover. */
  private lastDropAt = -Infinity;
  /** Removes what this driver listens to on its connections (an app's own client outlives it). */
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly client: Redis | Cluster,
    private readonly loseLocks: LoseLocks,
  ) {
    if (client.isCluster) {
      this.loseLocksOfDroppedNodes(client as Cluster);
    } else {
      this.listen(client, 'close', () => this.dropLocks());
      this.listen(client, 'ready', () => this.releaseDropped());
    }
  }

  /** A release that got no answer: the server may still have it, or run it late; sent again when the connection is back. */
  releaseWhenBack(remote: RedisLockRemote): void {
    this.droppedRemotes.push(remote);
  }

  /**
   * The locks whose commands `connection` carries are lost (it dropped, or its master is failing over: `detail`
   * says so): a single server's, or a master's slots'.
   */
  dropLocksOf(connection: Redis, detail?: string): void {
    if (!this.client.isCluster) return this.dropLocks(undefined, detail);
    const cluster = this.client as Cluster;
    const dropped = `${connection.options.host}:${connection.options.port}`;
    this.dropLocks((lock) => cluster.slots[clusterKeySlot((lock.remote as RedisLockRemote).lock)]?.[0] === dropped, detail);
  }

  /** Stops listening on the client's connections (at the driver's close). */
  stopListening(): void {
    for (const stop of this.listeners.splice(0)) stop();
  }

  /**
   * Whether locks were given up since `sentAt`: a lock whose take was sent before may have been answered by the
   * server that dropped, or by the master that failed over, and counts no more than the locks held then.
   */
  droppedSince(sentAt: number): boolean {
    return this.lastDropAt >= sentAt;
  }

  private dropLocks(which?: (lock: HeldLock) => boolean, detail?: string): void {
    this.lastDropAt = monotonicNow();
    const lost = this.loseLocks(which, detail);
    this.droppedRemotes.push(...lost.map((lock) => lock.remote as RedisLockRemote));
  }

  /**
   * Back on a server that kept its data (a replica promoted by Sentinel, a blip): free the locks we gave up,
   * so no one waits out their TTL. Owner-checked, so harmless where they are gone or taken since.
   */
  private releaseDropped(): void {
    for (const remote of this.droppedRemotes.splice(0)) remote.release().catch(() => undefined);
  }

  /** Cluster: when the connection to a master drops, the locks in its slots are lost; the others stay held. */
  private loseLocksOfDroppedNodes(cluster: Cluster): void {
    const watch = (node: Redis) => {
      this.listen(node, 'close', () => this.dropLocksOf(node));
      this.listen(node, 'ready', () => this.releaseDropped());
    };
    cluster.nodes('all').forEach(watch);
    this.listen(cluster, '+node', watch);
  }

  /** Listens on a client connection until close(): an app's own client outlives this driver. */
  private listen<A extends unknown[]>(emitter: Redis | Cluster, event: string, listener: (...args: A) => void): void {
    emitter.on(event, listener as (...args: unknown[]) => void);
    this.listeners.push(() => emitter.off(event, listener as (...args: unknown[]) => void));
  }
}
