import type { QueueResource } from '../../lock/local-wait-queues';
import { releasedChannel } from './redis-key-names';
import type { Listening, RedisReleaseSubscriber } from './redis-release-subscriber';

/** How long a key's subscription outlives its last waiter here: a hot key's next wait finds it still there. */
export const LISTEN_LINGER_MS = 1_000;

interface KeyListen {
  listening: Listening;
  /** Its SUBSCRIBE was confirmed: messages flow (a reconnect since wakes every waiter anyway). */
  live: boolean;
  lingering?: NodeJS.Timeout;
}

/**
 * Where the waiters of a key hear its grants: a subscription to its channel while anyone here waits,
 * kept LISTEN_LINGER_MS after the last one left. A wait that starts meanwhile neither subscribes again
 * nor asks the server twice (once before and once after its subscription works): on a hot key, that
 * was a SUBSCRIBE, an UNSUBSCRIBE and an acquire script per acquisition.
 */
export class RedisKeyListens {
  private readonly idle = new Map<string, KeyListen>();

  constructor(
    private readonly subscriber: RedisReleaseSubscriber,
    private readonly heard: (lock: string, message?: string) => void,
  ) {}

  open(lock: string): QueueResource {
    let listen = this.idle.get(lock);
    if (listen) {
      clearTimeout(listen.lingering);
      this.idle.delete(lock);
    } else {
      const listening = this.subscriber.listen(releasedChannel(lock), (message) => this.heard(lock, message));
      const opened: KeyListen = { listening, live: false };
      listening.ready.then(
        () => (opened.live = true),
        () => undefined,
      );
      listen = opened;
    }
    const current = listen;
    return { ready: current.live ? undefined : current.listening.ready, listening: current.live, close: () => this.linger(lock, current) };
  }

  /** Stops every subscription now (the driver closes). */
  stop(): void {
    for (const listen of this.idle.values()) {
      clearTimeout(listen.lingering);
      listen.listening.stop();
    }
    this.idle.clear();
  }

  private linger(lock: string, listen: KeyListen): void {
    listen.lingering = setTimeout(() => {
      if (this.idle.get(lock) !== listen) return;
      this.idle.delete(lock);
      listen.listening.stop();
    }, LISTEN_LINGER_MS);
    listen.lingering.unref();
    this.idle.set(lock, listen);
  }
}
