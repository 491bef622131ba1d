import type { Redis } from 'ioredis';

/** Called with the published message, or with nothing when a release may have been missed. */
export type ReleaseListener = (message?: string) => void;

interface ChannelListeners {
  listeners: Set<ReleaseListener>;
  subscribed: Promise<unknown>;
}

/** How long to wait before opening a new connection when one gave up for good (cluster: its node left). */
const REOPEN_DELAY_MS = 100;

/**
 * One subscriber connection per driver instance, shared by every waiting key: channels are subscribed
 * while someone waits on them. After a reconnect every listener is woken, since a release may have been
 * published while the connection was down. A connection that ends (in a cluster it gives up on a node
 * that stays away) is replaced by a new one that subscribes the same channels.
 */
export class RedisReleaseSubscriber {
  private connection?: Redis;
  private readonly channels = new Map<string, ChannelListeners>();

  private closed = false;

  constructor(private readonly open: () => Redis) {}

  /** Resolves once the server confirmed the subscription; the returned function stops listening. */
  async listen(channel: string, listener: ReleaseListener): Promise<() => void> {
    const connection = this.connect();
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), subscribed: connection.subscribe(channel) };
      this.channels.set(channel, entry);
    }
    entry.listeners.add(listener);
    const current = entry;
    const stop = (): void => {
      current.listeners.delete(listener);
      if (current.listeners.size > 0 || this.channels.get(channel) !== current) return;
      this.channels.delete(channel);
      this.connection?.unsubscribe(channel).catch(() => undefined);
    };
    try {
      await current.subscribed;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  private notify(channel: string, message?: string): void {
    this.channels.get(channel)?.listeners.forEach((listener) => listener(message));
  }

  get connectionCount(): number {
    return this.connection ? 1 : 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    this.channels.clear();
    if (connection) await connection.quit().catch(() => connection.disconnect());
  }

  private connect(): Redis {
    if (this.connection) return this.connection;
    const connection = this.open();
    let connectedOnce = false;
    connection.on('message', (channel: string, message: string) => this.notify(channel, message));
    connection.on('ready', () => {
      if (connectedOnce) this.notifyAll();
      connectedOnce = true;
    });
    connection.on('error', () => undefined); // reconnects by itself; waiters fall back to lease expiry
    connection.once('end', () => this.replace(connection));
    this.connection = connection;
    if (this.channels.size > 0) {
      // a replacement: listen again where the last connection did, then look again
      const resubscribed = connection.subscribe(...this.channels.keys());
      resubscribed.then(() => this.notifyAll()).catch(() => undefined);
      for (const entry of this.channels.values()) entry.subscribed = resubscribed;
    }
    return connection;
  }

  private notifyAll(): void {
    for (const channel of this.channels.keys()) this.notify(channel);
  }

  /** The connection gave up (not our close): open another once, if anyone is still waiting. */
  private replace(ended: Redis): void {
    if (this.connection !== ended) return;
    this.connection = undefined;
    this.notifyAll(); // waiters look now rather than at the holder's expiry
    const reopen = setTimeout(() => {
      if (!this.closed && !this.connection && this.channels.size > 0) this.connect();
    }, REOPEN_DELAY_MS);
    reopen.unref();
  }
}
