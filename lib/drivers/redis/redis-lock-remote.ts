import type { LockKind } from '../../acquisition/lock-kind';
import type { LockRemote } from '../../lock/held-lock';

/** What a held lock's remote asks of the driver that took it. */
export interface RedisLockServer {
  ownerId(serial: number): string;
  ownerSerial(owner: string): number;
  release(lockName: string, owner: string, kind: LockKind): Promise<void>;
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
  ) {
    this.serial = driver.ownerSerial(owner);
  }

  get owner(): string {
    return this.driver.ownerId(this.serial);
  }

  release(): Promise<void> {
    return this.driver.release(this.lock, this.owner, this.kind);
  }

  async extend(ttl: number): Promise<boolean> {
    return (await this.driver.renew([this], [ttl]))[0];
  }
}
