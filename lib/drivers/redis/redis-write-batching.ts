import type { Cluster, Redis } from 'ioredis';

/** What of ioredis' connection this reads: the socket and the commands awaiting a reply (internals). */
interface ConnectionInternals {
  stream?: { cork(): void; uncork(): void; writable: boolean };
  commandQueue?: { length: number };
}

const uncork = (stream: { uncork(): void }): void => stream.uncork();

/**
 * Many locks in flight on one connection (a lock per order): each command was a socket write of its
 * own, a system call that cost as much client CPU as all the rest of a cycle. While replies are pending
 * anyway, the commands sent in one turn of the event loop go out in one write instead (the socket is
 * corked until the turn's microtasks are done). A lone command (one lock at a time) is written at once,
 * as before. Only on a connection the driver opened: an app's own client is left as it is.
 */
export class RedisWriteBatching {
  private readonly connection?: ConnectionInternals;

  constructor(client: Redis | Cluster, owned: boolean) {
    if (owned && !client.isCluster) this.connection = client as unknown as ConnectionInternals;
  }

  /** Call just before sending a command. */
  beforeSend(): void {
    const connection = this.connection;
    const stream = connection?.stream;
    if (!stream?.writable || !connection?.commandQueue?.length) return;
    stream.cork();
    process.nextTick(uncork, stream);
  }
}
