import { Injectable } from '@nestjs/common';
import { LockerConfigError } from '../errors';
import { didYouMean } from '../utils/closest-name';
import type { LockedLoop, LockedLoopStatus } from './locked-loop';

/**
 * The `@LockedInterval` loops of this app, by name: list them, stop one (it finishes its run and releases
 * its lock, so another node takes over) and start it again, at run time.
 */
@Injectable()
export class LockedIntervalRegistry {
  private readonly loops = new Map<string, LockedLoop>();

  list(): LockedLoopStatus[] {
    return [...this.loops.values()].map((loop) => loop.status);
  }

  get(name: string): LockedLoopStatus {
    return this.loop(name).status;
  }

  has(name: string): boolean {
    return this.loops.has(name);
  }

  start(name: string): void {
    this.loop(name).start();
  }

  stop(name: string): Promise<void> {
    return this.loop(name).stop();
  }

  /** @internal used by the explorer at bootstrap */
  add(loop: LockedLoop): void {
    this.loops.set(loop.options.name, loop);
  }

  /** @internal */
  all(): LockedLoop[] {
    return [...this.loops.values()];
  }

  private loop(name: string): LockedLoop {
    const loop = this.loops.get(name);
    if (!loop) {
      throw new LockerConfigError({
        section: 'LockedIntervalRegistry',
        field: 'name',
        message: `no loop "${name}"${didYouMean(name, this.loops.keys())}; there are: ${[...this.loops.keys()].join(', ') || 'none'}`,
      });
    }
    return loop;
  }
}
