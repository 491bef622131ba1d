/** The local waiter first here for one lock, and so in the server's queue: where a grant to it lands. */
export interface QueuedHead {
  readonly owner: string;
  /** What it asked for: a release here hands the lock to it with this TTL (see HANDOFF_SCRIPT). */
  readonly ttl: number;
  readonly fair: boolean;
  /**
   * Monotonic send time that is certainly before any grant to it: of its latest attempt that answered
   * busy (a grant came after that attempt ran, else the attempt would have found the lock its own), or of
   * its first attempt while none has answered (no grant before its place existed). A granted lease is
   * counted from here, since this process did not send the command that started it.
   */
  since?: number;
  /** The fencing token of a grant heard for it (its message, or the reply of a release here). */
  grantedToken?: string;
  /**
   * The fence its latest busy attempt read. A grant with a token up to it ran before that attempt and
   * no longer holds (its lease ran out, or it was force-released), however late its message is heard.
   */
  busyFence?: bigint;
  /** A release here handed it the lock: the token, and when that release was sent (its lease counts from then). */
  handedOff?: { token: string; sentAt: number };
}

/**
 * Grants heard from the server: a release gives the lock to the first live waiters in the server's queue
 * that its kind's rule lets in (a mutex: one; readers: every reader at the head) and announces
 * "<token> <owner> ..." (an empty message: released to no one). Only the process whose waiter was named
 * does anything; the others sleep on, so a release wakes no herd.
 */
export class RedisGrants {
  private readonly heads = new Map<string, QueuedHead>();
  /**
   * Owners that gave up while queued and could not leave the queue, each with the owner-checked release
   * that gives back a lock granted to it: a grant to them is given back.
   */
  private readonly abandoned = new Map<string, { forget: NodeJS.Timeout; giveBack: (lock: string) => void }>();

  /** `wake`: wakes the local head of a lock (to take its grant, or to ask the server). */
  constructor(
    private readonly wake: (lock: string) => void,
    private readonly placeMs: number,
  ) {}

  /** `owner` is now the local head of `lock`: grants to it land in the returned record. */
  enter(lock: string, owner: string, asked: { ttl: number; fair: boolean }): QueuedHead {
    const head: QueuedHead = { owner, ttl: asked.ttl, fair: asked.fair };
    this.heads.set(lock, head);
    return head;
  }

  /** The local head of `lock`, if any: a release here may hand the lock to it. */
  headOf(lock: string): QueuedHead | undefined {
    return this.heads.get(lock);
  }

  /**
   * A release here handed `lock` to `owner` (sent at `sentAt`): true if that is still the head, which takes
   * it; false if it gave up meanwhile (the caller gives the lock back).
   */
  handedOff(lock: string, owner: string, token: string, sentAt: number): boolean {
    const head = this.heads.get(lock);
    if (head?.owner !== owner) return false;
    head.handedOff = { token, sentAt };
    this.wake(lock);
    return true;
  }

  /** `head`'s attempt sent at `sentAt` found the lock busy, with the fence at `fence`. */
  busy(head: QueuedHead, sentAt: number, fence: string): void {
    head.since = sentAt;
    head.busyFence = BigInt(fence);
    if (head.grantedToken !== undefined && BigInt(head.grantedToken) <= head.busyFence) head.grantedToken = undefined;
  }

  leave(lock: string, head: QueuedHead): void {
    if (this.heads.get(lock) === head) this.heads.delete(lock);
  }

  /**
   * `owner` gave up and its leave-queue script got no answer: a grant to it can come while its place
   * lives (placeMs), and is given back when heard.
   */
  abandon(owner: string, giveBack: (lock: string) => void): void {
    clearTimeout(this.abandoned.get(owner)?.forget);
    const forget = setTimeout(() => this.abandoned.delete(owner), 2 * this.placeMs);
    forget.unref();
    this.abandoned.set(owner, { forget, giveBack });
  }

  /** A message on the lock's channel, or nothing when one may have been missed (the head asks the server). */
  heard(lock: string, message?: string): void {
    const words = message ? message.split(' ') : [];
    if (words.length < 2) return this.wake(lock);
    for (let i = 0; i + 1 < words.length; i += 2) this.granted(lock, words[i + 1], words[i]);
  }

  /** The server granted `lock` to `owner` with `token` (heard, or replied to a release here; twice is fine). */
  granted(lock: string, owner: string, token: string): void {
    const head = this.heads.get(lock);
    if (head?.owner === owner) {
      if (head.busyFence !== undefined && BigInt(token) <= head.busyFence) return; // stale: see busyFence
      head.grantedToken ??= token;
      return this.wake(lock);
    }
    const abandoned = this.abandoned.get(owner);
    if (!abandoned) return;
    clearTimeout(abandoned.forget);
    this.abandoned.delete(owner);
    abandoned.giveBack(lock);
  }

  stop(): void {
    this.abandoned.forEach(({ forget }) => clearTimeout(forget));
    this.abandoned.clear();
  }
}
