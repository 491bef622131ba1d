import type { WaitScope } from './wait-scope';

/** The first waiter's hold on its turn: it alone asks the server. */
export interface Turn {
  /** Call before each request to the server: a release seen from now on cuts the next sleep short. */
  attempting(): void;
  /**
   * Sleeps up to `ms` (rejecting at the wait deadline or abort), woken early by `wakeHead`. The first
   * call only sets up the key's wake-up source (a subscription, a watch) and returns once it works:
   * the caller asks the server again, since a release before that would have gone unseen.
   */
  sleep(ms: number): Promise<void>;
}

/** What a driver keeps per waited-on key while anyone there sleeps (a subscription, a watch). */
export interface QueueResource {
  /** Settles once wake-ups flow; if it rejects, waiters just sleep their full time. */
  ready?: Promise<unknown>;
  close(): void;
}

/**
 * How long a key's wake-up source outlives its last waiter here when that waiter got the lock: a node
 * that takes a hot key again and again would otherwise subscribe (or watch), unsubscribe and ask the
 * server once more on every acquisition. A wait that ends without the lock (timeout, abort, error)
 * closes it at once: nothing of a failed attempt is left behind.
 */
export const WAKE_SOURCE_LINGER_MS = 1_000;

interface Waiter {
  notified: boolean;
  wake?: () => void;
}

interface Queue {
  waiters: Waiter[];
  resource?: QueueResource;
  lingering?: NodeJS.Timeout;
}

/**
 * The waiters of each key in this process, first come first served. Only the first one talks to the
 * server, so a thousand local waiters cost what one costs; when it is done (holding the lock or giving
 * up) the next one takes its turn at once. An uncontended acquisition is first at once and never
 * opens the key's wake-up source.
 */
export class LocalWaitQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly openResource: (key: string) => QueueResource) {}

  /** Whether anyone here waits for `key`, or did lately (its wake-up source lingers): a contended key. */
  isWaitedOn(key: string): boolean {
    return this.queues.has(key);
  }

  /** Whether anyone here waits for `key` now. */
  hasWaiters(key: string): boolean {
    return (this.queues.get(key)?.waiters.length ?? 0) > 0;
  }

  /** Wakes the first waiter of `key`: a release was seen. */
  wakeHead(key: string): void {
    const head = this.queues.get(key)?.waiters[0];
    if (!head) return;
    head.notified = true;
    head.wake?.();
  }

  /** Queues for `key`; when first, runs `asHead`, then gives the turn to the next waiter. */
  async take<T>(key: string, scope: WaitScope, asHead: (turn: Turn) => Promise<T>): Promise<T> {
    const queue = this.queues.get(key) ?? this.open(key);
    clearTimeout(queue.lingering);
    const me: Waiter = { notified: false };
    queue.waiters.push(me);
    const wakeSource = (wake: () => void) => {
      me.wake = wake;
      if (me.notified) wake();
      return () => (me.wake = undefined);
    };
    const sleep = async (ms: number): Promise<void> => {
      if (queue.resource) return scope.sleep(ms, wakeSource);
      queue.resource = this.openResource(key);
      const ready = queue.resource.ready;
      // Until wake-ups flow, this sleep ends when they do, or as any sleep would (time, deadline, abort).
      if (!ready) return;
      await scope.sleep(ms, (wake) => {
        ready.then(wake, wake);
        return () => undefined;
      });
    };
    let gotIt = false;
    try {
      while (queue.waiters[0] !== me) await scope.sleep(Infinity, wakeSource);
      const taken = await asHead({ attempting: () => (me.notified = false), sleep });
      gotIt = true;
      return taken;
    } finally {
      const wasHead = queue.waiters[0] === me;
      queue.waiters.splice(queue.waiters.indexOf(me), 1);
      if (queue.waiters.length > 0) {
        if (wasHead) this.wakeHead(key);
      } else if (gotIt && queue.resource) {
        queue.lingering = setTimeout(() => this.close(key, queue), WAKE_SOURCE_LINGER_MS);
        queue.lingering.unref();
      } else {
        this.close(key, queue);
      }
    }
  }

  /** Closes the wake-up sources kept after their last waiter (the driver closes). */
  closeLingering(): void {
    for (const [key, queue] of this.queues) if (queue.waiters.length === 0) this.close(key, queue);
  }

  private open(key: string): Queue {
    const queue: Queue = { waiters: [] };
    this.queues.set(key, queue);
    return queue;
  }

  private close(key: string, queue: Queue): void {
    clearTimeout(queue.lingering);
    if (this.queues.get(key) === queue) this.queues.delete(key);
    queue.resource?.close();
    queue.resource = undefined;
  }
}
