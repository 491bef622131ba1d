/** What the benchmark needs from a lock library: the same three calls for every contender. */
export interface BenchServers {
  /** `127.0.0.1:port` of the private redis-server. */
  redis: string;
  /** `127.0.0.1:port` of the private etcd. */
  etcd: string;
}

export interface BenchAcquireOptions {
  ttl: number;
  /** Give up after this many ms (each library's own way); absent = wait as long as it takes. */
  waitTime?: number;
  /** false: the lease is fixed and never renewed (crash recovery measures the TTL itself). */
  keepAlive?: boolean;
}

export interface BenchHeld {
  release(): Promise<void>;
}

/** One client of one library, as one node would use it. */
export interface BenchClient {
  acquire(key: string, options: BenchAcquireOptions): Promise<BenchHeld>;
  /** The library's own run-under-the-lock call, where it has one (nest-locker's withLock). */
  withLock?<T>(key: string, options: BenchAcquireOptions, body: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type Backend = 'redis' | 'etcd';

export interface Contender {
  readonly id: string;
  readonly backend: Backend;
  /** What it is and how it is configured, for the report. */
  readonly describe: string;
  /** The backend's hand-written floor, which ratios are taken against. */
  readonly floor?: true;
  /** Ignores keepAlive: false (its lease is always renewed while the process lives). */
  readonly alwaysKeepsAlive?: true;
  /** The package whose version the report names (absent for hand-written code). */
  readonly package?: string;
  connect(servers: BenchServers): Promise<BenchClient>;
}

/** Poll-and-sleep waiting, for libraries that only offer one attempt. */
export async function retryUntil<T>(attempt: () => Promise<T | undefined>, delayMs: number, waitTime?: number): Promise<T> {
  const deadline = waitTime === undefined ? Infinity : performance.now() + waitTime;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    const left = deadline - performance.now();
    if (left <= 0) throw new Error('wait time elapsed');
    await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, left)));
  }
}

export const hostPort = (addr: string): { host: string; port: number } => {
  const [host, port] = addr.split(':');
  return { host, port: Number(port) };
};
