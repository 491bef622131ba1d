import { sleep } from '../helpers/wait';
import type { FaultDriver, FaultEnvironment } from './environments';
import { singleServer } from './environments';
import type { FaultRun } from './fault-run';
import type { EventOf } from './history';

/** Lease and work per driver: holdings span a renewal (etcd leases have whole seconds). */
export const TIMING: Record<FaultDriver, { ttl: number; acts: number; actMs: number }> = {
  redis: { ttl: 600, acts: 6, actMs: 50 },
  etcd: { ttl: 2000, acts: 6, actMs: 150 },
};

export const WORKERS = 3;

/**
 * What the workers of a run take: a permit each, (`rw`) the first a write lock and the others read locks, or
 * (`leader`) leadership of an election, each campaigning and resigning.
 */
export type LockUnderTest = { kind: 'permit'; limit: number } | { kind: 'rw' } | { kind: 'leader' };

export interface FaultScenario<E extends FaultEnvironment = FaultEnvironment> {
  /** The row's name in the report. */
  fault: string;
  driver: FaultDriver;
  /** Absent: a mutex. */
  lock?: LockUnderTest;
  /** The broken control lock: its row must show violations. */
  control?: boolean;
  /** A longer lease and holding than TIMING's, where the fault must not simply outlast them. */
  ttl?: number;
  acts?: number;
  /** The run must show a fenced resource refusing a stale holder (and an unfenced one taking its write). */
  staleWriteExpected?: boolean;
  /** Servers for each run, when a run uses them up (a failover); otherwise one set serves every run. */
  environmentPerRun?: boolean;
  environment(): Promise<E>;
  /** Injects the fault into a running history (marking when), then lets it recover. */
  inject(run: FaultRun, environment: E): Promise<void>;
}

/** Lets a scenario with its own kind of environment sit in the matrix. */
export const anyScenario = <E extends FaultEnvironment>(scenario: FaultScenario<E>): FaultScenario => scenario;

/** Lets the run go on until more acquisitions show the lock recovered. */
export const recovered = (run: FaultRun, driver: FaultDriver) => run.acquisitionsAfterFault(2, TIMING[driver].ttl * 6 + 20_000);

/** Waits until a node other than `victim` acquired and wrote: the successor is acting. */
async function successorWrote(run: FaultRun, victim: string, driver: FaultDriver): Promise<void> {
  const within = TIMING[driver].ttl * 6 + 10_000;
  const successor = await run.next((e): e is EventOf<'acquired'> => e.kind === 'acquired' && e.node !== victim, within, 'a successor');
  await run.next((e): e is EventOf<'write'> => e.kind === 'write' && e.node === successor.node, within, "the successor's write");
}

const onEach = (drivers: FaultDriver[], make: (driver: FaultDriver) => FaultScenario[]): FaultScenario[] => drivers.flatMap(make);

/** The single-server matrix: each fault on redis and on etcd. */
export const SINGLE_SERVER_SCENARIOS: FaultScenario[] = onEach(['redis', 'etcd'], (driver) => [
  {
    fault: 'holder SIGKILLed',
    driver,
    environment: () => singleServer(driver, WORKERS),
    async inject(run) {
      const held = await run.nextHeld();
      run.node(held.node).child.kill('SIGKILL');
      run.recordFrozen(held.node, run.markFault(), Infinity);
      await recovered(run, driver);
    },
  },
  {
    fault: 'holder SIGSTOPped past its TTL',
    driver,
    staleWriteExpected: true,
    environment: () => singleServer(driver, WORKERS),
    async inject(run) {
      const held = await run.nextHeld(); // it is now between its check and its write
      run.node(held.node).child.kill('SIGSTOP');
      const from = run.markFault();
      await successorWrote(run, held.node, driver);
      run.node(held.node).child.kill('SIGCONT');
      run.recordFrozen(held.node, from, run.now());
      await recovered(run, driver);
    },
  },
  {
    fault: 'event loop blocked past TTL',
    driver,
    staleWriteExpected: true,
    environment: () => singleServer(driver, WORKERS),
    async inject(run) {
      const held = await run.nextHeld();
      run.node(held.node).send({ type: 'block', ms: TIMING[driver].ttl * 2 });
      run.markFault();
      await recovered(run, driver);
    },
  },
  {
    fault: 'server restarted, holder and waiters on it',
    driver,
    // the restart is over long before the lease ends and the holder stops writing: it must be told all the same
    ttl: 10_000,
    acts: driver === 'redis' ? 40 : 10,
    environment: () => singleServer(driver, WORKERS),
    async inject(run, environment) {
      await run.nextHeld();
      run.markFault();
      await environment.server?.restart(300);
      await recovered(run, driver);
    },
  },
  ...(['cut', 'reset'] as const).map((fault): FaultScenario => ({
    fault: `connection ${fault === 'cut' ? 'cut' : 'reset'} mid-renewal`,
    driver,
    environment: () => singleServer(driver, WORKERS, true),
    async inject(run, environment) {
      const held = await run.nextHeld();
      const proxy = environment.proxies[run.nodes.indexOf(run.node(held.node))];
      await proxy.faultNextRequest(fault); // the holder's next request on the wire: a renewal, or its release
      run.markFault();
      if (fault === 'cut') {
        await sleep(TIMING[driver].ttl * 2);
        proxy.set({ kind: 'pass' });
      }
      await recovered(run, driver);
    },
  })),
  {
    fault: 'connection delayed by ttl/2',
    driver,
    environment: () => singleServer(driver, WORKERS, true),
    async inject(run, environment) {
      const held = await run.nextHeld();
      const proxy = environment.proxies[run.nodes.indexOf(run.node(held.node))];
      proxy.set({ kind: 'delay', delayMs: TIMING[driver].ttl / 2 });
      run.markFault();
      await sleep(TIMING[driver].ttl * 2);
      proxy.set({ kind: 'pass' });
      await recovered(run, driver);
    },
  },
]);

/** The control: the broken lock, no fault needed. The checker must find violations, or it proves nothing. */
export const CONTROL_SCENARIO: FaultScenario = {
  fault: 'control: a broken lock (check-then-set)',
  driver: 'redis',
  control: true,
  environment: () => singleServer('redis', WORKERS),
  inject: (run) => run.acquisitions(30, 20_000),
};
