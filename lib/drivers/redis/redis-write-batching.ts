import type { Cluster, Redis } from 'ioredis';

/** What of ioredis' connection this reads: the socket and the commands awaiting a reply (internals). */
interface ConnectionInternals {
  stream?: Socket;
  commandQueue?: { length: number };
}

interface Socket {
  cork(): void;
  uncork(): void;
  writable: boolean;
}

/**
 * The most commands one write carries. The server starts on a batch only once it is written: a batch of
 * every command of a turn (64 locks in flight) left the server idle while the client built it, and the
 * client idle while the server answered it (bench 5b's loop, profiled: the client idle a third of the time,
 * redis-server busy under half), at 0.6× the throughput of batches of 16. Batches of 8, 24 and 32 did less
 * well than 16.
 */
const BATCH_MAX = 16;

/**
 * Many locks in flight on one connection (a lock per order): each command was a socket write of its
 * own, a system call that cost as much client CPU as all the rest of a cycle. While replies are pending
 * anyway, the commands sent in one turn of the event loop go out together instead, BATCH_MAX to a write
 * (the socket is corked until then, or until the turn's microtasks are done). A lone command (one lock at a
 * time) is written at once, as before. Only on a connection the driver opened: an app's own client is left
 * as it is.
 */
export class RedisWriteBatching {
  private readonly connection?: ConnectionInternals;
  /** The socket corked for the batch being built, if one is. */
  private corked?: Socket;
  private batched = 0;
  private readonly flush = (): void => {
    const socket = this.corked;
    if (!socket) return;
    this.corked = undefined;
    this.batched = 0;
    socket.uncork();
  };

  constructor(client: Redis | Cluster, owned: boolean) {
    if (owned && !client.isCluster) this.connection = client as unknown as ConnectionInternals;
  }

  /** Call just before sending a command. */
  beforeSend(): void {
    const connection = this.connection;
    const stream = connection?.stream;
    if (!stream?.writable || !connection?.commandQueue?.length) return;
    if (this.corked !== stream) {
      this.flush(); // a batch on a socket that has since been replaced (a reconnect)
      this.corked = stream;
      stream.cork();
      process.nextTick(this.flush);
    }
    if (++this.batched >= BATCH_MAX) this.flush();
  }
}
