import type { LockerConfig } from 'nest-locker';
import type { HistoryEvent } from './history';

export interface FaultWorkerArgs {
  node: string;
  key: string;
  ttl: number;
  /** Writes per holding, each after a `held` check and `actMs` of work (the window a pause can hit). */
  acts: number;
  actMs: number;
  /**
   * `nest-locker`, or a deliberately broken control: a lock (check-then-set on redis, no owner check) or a
   * semaphore (count-then-add).
   */
  lock: 'nest-locker' | 'broken';
  config: LockerConfig;
  /** For the broken lock: the redis server it uses. */
  redisAddr?: string;
  /** What each holding takes: a mutex (default), a permit of `limit`, a read or a write lock, or leadership (a campaign). */
  lockKind?: 'permit' | 'read' | 'write' | 'leader';
  limit?: number;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'event'; event: HistoryEvent }
  | { type: 'write'; id: number; key: string; token: string }
  | { type: 'pong'; id: number; at: number }
  | { type: 'stopped' };

export type ControllerMessage =
  | { type: 'ack'; id: number }
  | { type: 'ping'; id: number }
  /** Block the event loop for `ms` (as a long synchronous computation would). */
  | { type: 'block'; ms: number }
  | { type: 'stop' };
