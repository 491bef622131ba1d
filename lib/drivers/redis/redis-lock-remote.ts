import type { LockKind } from '../../acquisition/lock-kind';
import type { LockRemote } from '../../lock/held-lock';

/** A lock someone was seen waiting for when it was taken: its release goes by the full script at once. */
export const WAITED_FOR = 1;
/** A lock never kept for a retake at its release (fair, a leader, a shared kind, or one passed on). */
export const NO_KEEP = 2;

/** What a held lock's remote asks of the driver that took it. */
export interface RedisLockServer {
  ownerId(serial: number): string;
  ownerSerial(owner: string): number;
  release(lockName: string, owner: string, kind: LockKind, flags: number): Promise<void>;
  renew(remotes: RedisLockRemote[], ttls: number[]): Promise<boolean[]>;
}

/** The server side of one held lock: its name and our owner id's counter, nothing more (there may be thousands). */
export class RedisLockRemote implements LockRemote {
  /** Our owner id's counter: the id, which names the holder's host, is rebuilt when sent instead of kept per lock. */
  private readonly serial: number;

  constructor(
    private readonly driver: RedisLockServer,
    readonly lock: string,
    owner: string,
    /** Which scripts release and renew it: see RedisLockProtocol, heldShared. */
    readonly kind: LockKind,
    /** WAITED_FOR, NO_KEEP: how its release is sent. */
    private readonly flags = 0,
  ) {
    this.serial = driver.ownerSerial(owner);
  }

  get owner(): string {
    return this.driver.ownerId(this.serial);
  }

  release(): Promise<void> {
    return this.driver.release(this.lock, this.owner, this.kind, this.flags);
  }

  async extend(ttl: number): Promise<boolean> {
    return (await this.driver.renew([this], [ttl]))[0];
  }
}
