import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LockerConfig } from 'nest-locker';
import { lockerConfig } from '../faults/environments';
import { FaultProxy } from '../harness/fault-proxy';
import { ElectionWorker, startElectionWorker } from '../helpers/election-workers';
import type { LockerApp } from '../helpers/locker-app';
import { eventually, systemNow } from '../helpers/wait';
import type { ElectionLine } from '../src/election-worker';
import type { DriverFixture } from './driver-fixtures';

let nameCounter = 0;
const freshName = (name: string): string => `${name}-processes-${process.pid}-${++nameCounter}`;

type Line<E extends ElectionLine['event']> = Extract<ElectionLine, { event: E }>;

/** The held windows the candidates reported: from elected to resigning (while still held), by term. */
function heldWindows(workers: ElectionWorker[]): { term: bigint; start: number; end: number }[] {
  return workers.flatMap((worker) => {
    const resigned = new Map(
      worker.lines.filter((line): line is Line<'resigning'> => line.event === 'resigning').map((line) => [line.term, line.at]),
    );
    return worker.lines
      .filter((line): line is Line<'elected'> => line.event === 'elected')
      .map((line) => ({ term: BigInt(line.term), start: line.at, end: resigned.get(line.term) ?? Infinity }));
  });
}

const observedTerms = (observer: ElectionWorker): (string | null)[] =>
  observer.lines.filter((line): line is Line<'observed'> => line.event === 'observed').map((line) => line.term);

/** Election workers of one test: each is stopped (killed if need be) when the test ends. */
function workersOf(): { start(args: Parameters<typeof startElectionWorker>[0]): Promise<ElectionWorker>; stopAll(): Promise<void> } {
  const started: ElectionWorker[] = [];
  return {
    async start(args) {
      const worker = await startElectionWorker(args);
      started.push(worker);
      return worker;
    },
    async stopAll() {
      for (const worker of started) worker.signal('SIGCONT');
      await Promise.all(started.map((worker) => worker.stop(5_000)));
    },
  };
}

/** Several OS processes in one election, on a server driver: what a user of a cluster would see. */
export function severalProcessElections(fixture: () => DriverFixture, app: () => LockerApp): void {
  /** A lease the backend honours in whole seconds (etcd), short enough for a takeover to be waited for. */
  const ttl = () => Math.max(fixture().shortTtl, 1000);
  const config = (): LockerConfig => fixture().config();
  const entriesBecome = (name: string, count: number) =>
    eventually(
      async () => (await fixture().state(name, app().driver(fixture().driver), 'leader')).entries,
      (found) => found === count,
      10_000,
    );

  describe('several OS processes', () => {
    it('one leader at a time over many terms: held windows never overlap, terms only grow, every observer sees every term in order', async () => {
      const name = freshName('history');
      const workers = workersOf();
      try {
        const observers = await Promise.all([0, 1].map(() => workers.start({ mode: 'observer', config: config(), name })));
        for (const observer of observers) await observer.next('observed', 10_000); // watching: it told the state now
        const candidates = await Promise.all(
          [0, 1, 2].map((index) =>
            workers.start({ mode: 'candidate', config: config(), name, ttl: ttl(), value: `node-${index}`, terms: 4, holdMs: 250 }),
          ),
        );
        assert.deepEqual(await Promise.all(candidates.map((candidate) => candidate.exited)), [0, 0, 0]);
        const windows = heldWindows(candidates).sort((a, b) => a.start - b.start);
        assert.equal(windows.length, 12, 'every candidate led 4 terms');
        for (let i = 1; i < windows.length; i++) {
          assert.ok(windows[i].start >= windows[i - 1].end, `term ${windows[i].term} began while term ${windows[i - 1].term} was held`);
          assert.ok(windows[i].term > windows[i - 1].term, 'terms only grow');
        }
        const terms = windows.map((window) => window.term.toString());
        for (const observer of observers) {
          const seen = await eventually(
            async () => observedTerms(observer),
            (observed) => observed.at(-1) === null && observed.includes(terms.at(-1) as string),
            10_000,
          );
          assert.deepEqual(
            seen.filter((term) => term !== null),
            terms,
            'the observer saw every term once, in order',
          );
        }
        await Promise.all(observers.map((observer) => observer.stop()));
        for (const observer of observers)
          assert.ok(
            observer.lines.some((line) => line.event === 'ended'),
            'observe() ended at shutdown',
          );
      } finally {
        await workers.stopAll();
      }
    });

    for (const how of ['SIGKILL', 'SIGTERM'] as const) {
      it(`after ${how} of the leader, the next candidate leads (${how === 'SIGKILL' ? 'within the TTL plus a round trip' : 'within about a round trip: it resigned at shutdown'})`, async (t) => {
        const name = freshName(how);
        const lease = how === 'SIGKILL' ? ttl() * 2 : 30_000;
        const workers = workersOf();
        try {
          const leader = await workers.start({ mode: 'leader', config: config(), name, ttl: lease, value: 'first' });
          const elected = await leader.next('elected', 10_000);
          const follower = await workers.start({ mode: 'candidate', config: config(), name, ttl: lease, value: 'second', holdMs: 60_000 });
          await entriesBecome(name, 2);
          const stoppedAt = systemNow();
          leader.signal(how);
          const next = await follower.next('elected', lease + 10_000);
          const takeoverMs = next.at - stoppedAt;
          t.diagnostic(`takeover ${takeoverMs.toFixed(0)} ms after ${how} (lease ${lease} ms)`);
          assert.ok(BigInt(next.term) > BigInt(elected.term));
          // a round trip is milliseconds; a busy machine may take a second more
          const bound = how === 'SIGKILL' ? lease + 1_500 : lease / 6;
          assert.ok(takeoverMs <= bound, `the follower led ${takeoverMs.toFixed(0)} ms after the ${how} (bound ${bound} ms)`);
          const seen = await eventually(
            () => app().service.election(name).leader(),
            (leaderNow) => leaderNow?.value === 'second',
          );
          assert.equal(seen?.term.toString(), next.term, 'leader() names the follower, with its term');
        } finally {
          await workers.stopAll();
        }
      });
    }

    it('a leader SIGKILLed with no candidate to follow: observers are told that no one leads at its lease end', async (t) => {
      const name = freshName('alone');
      const workers = workersOf();
      const stop = new AbortController();
      const seen: { term: string | null; at: number }[] = [];
      const observing = (async () => {
        for await (const leader of app().service.election(name).observe(stop.signal))
          seen.push({ term: leader?.term.toString() ?? null, at: systemNow() });
      })();
      try {
        const leader = await workers.start({ mode: 'leader', config: config(), name, ttl: ttl() });
        const elected = await leader.next('elected', 10_000);
        await eventually(
          async () => seen.at(-1)?.term,
          (term) => term === elected.term,
          10_000,
        );
        const killedAt = systemNow();
        leader.kill();
        // no message comes when a lease runs out: the observer reads again when it would end
        const gone = await eventually(
          async () => seen.at(-1),
          (last) => last?.term === null,
          ttl() * 4 + 5_000,
        );
        assert.equal(gone?.term, null);
        t.diagnostic(`told ${((gone?.at ?? 0) - killedAt).toFixed(0)} ms after the kill (lease ${ttl()} ms)`);
        assert.ok((gone?.at ?? Infinity) - killedAt <= ttl() + 1_500, 'at the lease end, not later');
      } finally {
        stop.abort();
        await observing;
        await workers.stopAll();
      }
    });

    it('a leader SIGSTOPped past its TTL is told on resume, and its stale term is refused by a fenced resource', async () => {
      const name = freshName('sigstop');
      const workers = workersOf();
      /** The fenced resource: refuses a term below the highest it took. */
      let highest = -1n;
      const fenced = (term: string): boolean => {
        if (BigInt(term) < highest) return false;
        highest = BigInt(term);
        return true;
      };
      try {
        const leader = await workers.start({ mode: 'leader', config: config(), name, ttl: ttl(), actMs: 200 });
        const elected = await leader.next('elected', 10_000);
        const follower = await workers.start({ mode: 'candidate', config: config(), name, ttl: ttl(), holdMs: 60_000 });
        await entriesBecome(name, 2);
        const write = await leader.next('write', 10_000);
        assert.ok(fenced(write.term));
        leader.signal('SIGSTOP'); // between its check of `held` and its next write
        const next = await follower.next('elected', ttl() * 4 + 10_000);
        assert.ok(fenced(next.term), "the new leader's write is taken");
        const resumedAt = systemNow();
        const from = leader.lines.length;
        leader.signal('SIGCONT');
        const lost = await leader.next('lost', 10_000, from);
        assert.match(lost.reason, /^LockLostError/);
        assert.ok(lost.at >= resumedAt - 5, 'told on resume');
        const stale = await leader.next('write', 10_000, from);
        assert.equal(stale.term, elected.term);
        assert.equal(fenced(stale.term), false, 'the stale term is refused by the fence');
      } finally {
        await workers.stopAll();
      }
    });

    it('a partitioned leader learns it before the next leader starts', async () => {
      const name = freshName('partition');
      const server = fixture().server as NonNullable<DriverFixture['server']>;
      const proxy = await FaultProxy.start(server.port);
      const workers = workersOf();
      try {
        const connection = fixture().driver === 'redis' ? { addr: proxy.addr } : { endpoints: [proxy.addr] };
        const leader = await workers.start({
          mode: 'leader',
          config: lockerConfig(fixture().driver as 'redis' | 'etcd', connection),
          name,
          ttl: ttl(),
        });
        await leader.next('elected', 10_000);
        const follower = await workers.start({ mode: 'candidate', config: config(), name, ttl: ttl(), holdMs: 60_000 });
        await entriesBecome(name, 2);
        proxy.set({ kind: 'cut' });
        const next = await follower.next('elected', ttl() * 4 + 10_000);
        const lost = await leader.next('lost', 1_000);
        assert.ok(lost.at < next.at, `the old leader learned it ${(next.at - lost.at).toFixed(0)} ms before the next led`);
      } finally {
        proxy.set({ kind: 'pass' });
        await workers.stopAll();
        await proxy.close();
      }
    });

    it('a server restarted mid-term never yields two leaders, and observe() yields the truth after it', async () => {
      const name = freshName('restart');
      const workers = workersOf();
      const server = fixture().server as NonNullable<DriverFixture['server']>;
      const stop = new AbortController();
      const seen: (string | null)[] = [];
      const observing = (async () => {
        for await (const leader of app().service.election(name).observe(stop.signal)) seen.push(leader?.term.toString() ?? null);
      })();
      try {
        const leader = await workers.start({ mode: 'leader', config: config(), name, ttl: ttl() * 2 });
        const first = await leader.next('elected', 10_000);
        const follower = await workers.start({ mode: 'candidate', config: config(), name, ttl: ttl() * 2, holdMs: 60_000 });
        await entriesBecome(name, 2);
        await eventually(
          async () => seen.at(-1),
          (term) => term === first.term,
          10_000,
        );
        await server.restart(300);
        // redis lost its data: the leader lost its lock on the dropped connection, before the follower could lead;
        // etcd kept it: the leader leads on. Either way there is one leader, and the observer names it.
        const truth = await eventually(
          () =>
            app()
              .service.election(name)
              .leader()
              .catch(() => undefined),
          (leaderNow) => leaderNow !== undefined && leaderNow !== null,
          ttl() * 4 + 10_000,
        );
        const told = await eventually(
          async () => seen.at(-1),
          (term) => term === truth?.term.toString(),
          10_000,
        );
        assert.equal(told, truth?.term.toString(), 'the observer names the leader there is after the restart');
        const lost = leader.lines.find((line): line is Line<'lost'> => line.event === 'lost');
        const next = follower.lines.find((line): line is Line<'elected'> => line.event === 'elected');
        if (next) {
          assert.ok(lost && lost.at < next.at, `the follower led at ${next.at}, the old leader was told at ${lost?.at}`);
          assert.ok(BigInt(next.term) > BigInt(first.term), 'terms only grow, across the restart');
        } else assert.equal(truth?.term.toString(), first.term, 'the leader leads on');
        const terms = seen.filter((term): term is string => term !== null).map(BigInt);
        assert.ok(
          terms.every((term, index) => index === 0 || term > terms[index - 1]),
          `the observer's terms only grow: ${terms.join(', ')}`,
        );
      } finally {
        stop.abort();
        await observing;
        await workers.stopAll();
      }
    });
  });
}
