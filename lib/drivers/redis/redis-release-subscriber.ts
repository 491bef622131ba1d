import { quitWithin } from './redis-connection';
import type { ReleaseListening, SubscriberConnection } from './redis-release-channels';

/** Called with the published message, or with nothing when a release may have been missed. */
export type ReleaseListener = (message?: string) => void;

interface ChannelListeners {
  listeners: Set<ReleaseListener>;
  subscribed: Promise<unknown>;
}

/** One key's listening: `ready` settles once its first SUBSCRIBE (or SSUBSCRIBE) did (a failed one is tried again). */
export interface Listening {
  ready: Promise<unknown>;
  stop(): void;
}

/** How long to wait before opening a new connection when one gave up for good (cluster: its node left). */
const REOPEN_DELAY_MS = 100;

/** How long to wait before subscribing again where a SUBSCRIBE failed on a connection that is up. */
const RESUBSCRIBE_DELAY_MS = 1000;

/**
 * One subscriber connection per driver instance, shared by every waiting key: channels are subscribed
 * while someone waits on them. After a reconnect every listener is woken, since a release may have been
 * published while the connection was down. A connection that ends (in a cluster it gives up on a node
 * that stays away) is replaced by a new one that subscribes the same channels. A SUBSCRIBE that fails (its
 * connection was down, the server did not answer) is sent again once the connection is ready, so a key's
 * waiters are not left to wake only at the holder's expiry. With sharded pub/sub the connection is a cluster
 * client that listens on each channel's own master; when it listens again after a change there (a master's
 * connection replaced, a slot moved), every channel is subscribed again and its listeners woken.
 */
export class RedisReleaseSubscriber {
  private connection?: SubscriberConnection;
  private readonly channels = new Map<string, ChannelListeners>();
  /** Channels listened to whose SUBSCRIBE failed: subscribed again when the connection is ready. */
  private readonly unsubscribed = new Set<string>();
  private resubscribeTimer?: NodeJS.Timeout;

  private closed = false;

  constructor(
    private readonly open: () => SubscriberConnection,
    private readonly commandTimeout: number,
    private readonly listening: ReleaseListening,
  ) {}

  /** Listens from now until `stop()`; `ready` settles once the server confirmed the first subscription. */
  listen(channel: string, listener: ReleaseListener): Listening {
    const connection = this.connect();
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), subscribed: this.subscribe(connection, [channel]) };
      this.channels.set(channel, entry);
    }
    entry.listeners.add(listener);
    const current = entry;
    const stop = (): void => {
      current.listeners.delete(listener);
      if (current.listeners.size > 0 || this.channels.get(channel) !== current) return;
      this.channels.delete(channel);
      if (this.connection) this.listening.unsubscribe(this.connection, channel).catch(() => undefined);
    };
    return { ready: current.subscribed, stop };
  }

  /** SUBSCRIBE; if it fails, the channels are subscribed again later (and looked at then). */
  private subscribe(connection: SubscriberConnection, channels: string[]): Promise<unknown> {
    const subscribed = this.listening.subscribe(connection, channels);
    subscribed.catch(() => {
      channels.forEach((channel) => this.unsubscribed.add(channel));
      if (this.resubscribeTimer || this.closed) return;
      this.resubscribeTimer = setTimeout(() => this.resubscribe(), RESUBSCRIBE_DELAY_MS);
      this.resubscribeTimer.unref();
    });
    return subscribed;
  }

  /** Subscribes the channels whose SUBSCRIBE failed, once the connection is ready; a release may have been missed. */
  private resubscribe(): void {
    clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = undefined;
    const connection = this.connection;
    if (this.closed || connection?.status !== 'ready') return; // its 'ready' calls again
    const channels = [...this.unsubscribed].filter((channel) => this.channels.has(channel));
    this.unsubscribed.clear();
    if (channels.length === 0) return;
    this.subscribe(connection, channels)
      .then(() => channels.forEach((channel) => this.notify(channel)))
      .catch(() => undefined);
  }

  private notify(channel: string, message?: string): void {
    this.channels.get(channel)?.listeners.forEach((listener) => listener(message));
  }

  get connectionCount(): number {
    return this.connection ? 1 : 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.resubscribeTimer);
    const connection = this.connection;
    this.connection = undefined;
    this.channels.clear();
    if (connection) await quitWithin(connection, this.commandTimeout);
  }

  private connect(): SubscriberConnection {
    if (this.connection) return this.connection;
    const connection = this.open();
    let connectedOnce = false;
    connection.on(this.listening.message, (channel: string, message: string) => this.notify(channel, message));
    if (this.listening.relistened) {
      // it subscribed again by itself, without waiting for the answers: subscribe again, then wake when confirmed
      connection.on(this.listening.relistened, () => {
        for (const channel of this.channels.keys()) this.unsubscribed.add(channel);
        this.resubscribe();
      });
    }
    connection.on('ready', () => {
      if (connectedOnce) this.notifyAll();
      connectedOnce = true;
      this.resubscribe();
    });
    connection.on('error', () => undefined); // reconnects by itself; waiters fall back to lease expiry
    connection.once('end', () => this.replace(connection));
    this.connection = connection;
    if (this.channels.size > 0) {
      // a replacement: listen again where the last connection did, then look again
      const resubscribed = this.subscribe(connection, [...this.channels.keys()]);
      resubscribed.then(() => this.notifyAll()).catch(() => undefined);
      for (const entry of this.channels.values()) entry.subscribed = resubscribed;
    }
    return connection;
  }

  private notifyAll(): void {
    for (const channel of this.channels.keys()) this.notify(channel);
  }

  /** The connection gave up (not our close): open another once, if anyone is still waiting. */
  private replace(ended: SubscriberConnection): void {
    if (this.connection !== ended) return;
    this.connection = undefined;
    this.notifyAll(); // waiters look now rather than at the holder's expiry
    const reopen = setTimeout(() => {
      if (!this.closed && !this.connection && this.channels.size > 0) this.connect();
    }, REOPEN_DELAY_MS);
    reopen.unref();
  }
}
