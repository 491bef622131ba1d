import type { Cluster } from 'ioredis';

/**
 * Asks `cluster` for the slot map every `ms` while it is ready (a master that was away comes back on the same
 * address, a slot moved), on a timer that never holds the process and stops when the client ends. Not ioredis'
 * `slotsRefreshInterval`: a refresh still in flight when the client closes (a master not answering) re-arms
 * it, and from then on it runs every `ms` for ever, keeping a shut-down process alive.
 */
export function refreshSlotsEvery<T extends Cluster>(cluster: T, ms: number): T {
  const timer = setInterval(() => {
    if (cluster.status === 'ready') cluster.refreshSlotsCache();
  }, ms);
  timer.unref();
  cluster.once('end', () => clearInterval(timer));
  return cluster;
}
