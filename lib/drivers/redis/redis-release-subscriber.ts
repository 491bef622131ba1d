import type { Redis } from 'ioredis';

/** Called with the published message, or with nothing when a release may have been missed. */
export type ReleaseListener = (message?: string) => void;

interface ChannelListeners {
  listeners: Set<ReleaseListener>;
  subscribed: Promise<unknown>;
}

/**
 * One subscriber connection per driver instance, shared by every waiting key: channels are subscribed
 * while someone waits on them. After a reconnect every listener is woken, since a release may have been
 * published while the connection was down.
 */
export class RedisReleaseSubscriber {
  private connection?: Redis;
  private readonly channels = new Map<string, ChannelListeners>();

  constructor(private readonly client: Redis) {}

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
      connection.unsubscribe(channel).catch(() => undefined);
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
    const connection = this.connection;
    this.connection = undefined;
    this.channels.clear();
    if (connection) await connection.quit().catch(() => connection.disconnect());
  }

  private connect(): Redis {
    if (this.connection) return this.connection;
    const connection = this.client.duplicate();
    let connectedOnce = false;
    connection.on('message', (channel: string, message: string) => this.notify(channel, message));
    connection.on('ready', () => {
      if (connectedOnce) for (const channel of this.channels.keys()) this.notify(channel);
      connectedOnce = true;
    });
    connection.on('error', () => undefined); // reconnects by itself; waiters fall back to lease expiry
    this.connection = connection;
    return connection;
  }
}
