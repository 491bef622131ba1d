import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  Election,
  ElectionOptions,
  LeaderInfo,
  LockerConfig,
  LockerError,
  LockLostError,
  LockReleasedError,
  LockWaitTimeoutError,
} from 'nest-locker';
import { LockerApp, startLockerApp } from '../helpers/locker-app';
import { abortReason, eventually, sleep } from '../helpers/wait';
import type { DriverFixture } from './driver-fixtures';
import { severalProcessElections } from './election-processes';

let nameCounter = 0;
const freshName = (name: string): string => `${name}-${process.pid}-${++nameCounter}`;

/** What an observer has seen: the leaders it was told of, and null for "no leader", in order. */
export function observeInto(election: Election, signal: AbortSignal): { seen: (LeaderInfo | null)[]; ended: Promise<void> } {
  const seen: (LeaderInfo | null)[] = [];
  const ended = (async () => {
    for await (const leader of election.observe(signal)) seen.push(leader);
  })();
  return { seen, ended };
}

/**
 * DESIGN §5 for elections, written once and run against every driver: campaign, resign, leader(),
 * observe() in order, isLeader, waitTime and abort leaving nothing behind, inspect and forceRelease, and
 * (server drivers) several OS processes: one leader at a time over many terms, takeover after SIGKILL and
 * SIGTERM, a paused or cut-off leader told before the next leads, a server restarted mid-term.
 */
export function electionConformanceSuite(
  driver: DriverFixture['driver'],
  makeFixture: () => Promise<DriverFixture>,
  /** The several-process tests need one server to cut off and restart: not a cluster's. */
  { processes = driver !== 'memory' }: { processes?: boolean } = {},
): void {
  let fixture: DriverFixture;
  /** The nodes of the test: three apps on one backend; memory's one app has three locker sections instead. */
  let nodes: LockerApp[] = [];
  const sections = driver === 'memory' ? ['locker', 'second', 'third'] : ['locker', 'locker', 'locker'];
  const config = (): LockerConfig =>
    driver === 'memory'
      ? { ...fixture.config(), second: { ...fixture.config().locker }, third: { ...fixture.config().locker } }
      : fixture.config();

  before(async () => {
    fixture = await makeFixture();
    const first = await startLockerApp(config());
    nodes = driver === 'memory' ? [first, first, first] : [first, await startLockerApp(config()), await startLockerApp(config())];
  });
  after(async () => {
    for (const node of new Set(nodes)) await node.close();
    await fixture?.close();
  });

  /** Node `index`'s candidacy in election `name`. */
  const candidate = (index: number, name: string, options: ElectionOptions = {}): Election =>
    nodes[index].service.election(name, { ...options, locker: sections[index] });
  const entries = async (name: string) => (await fixture.state(name, nodes[0].driver(fixture.driver), 'leader')).entries;
  const entriesBecome = (name: string, count: number) =>
    eventually(
      () => entries(name),
      (found) => found === count,
      10_000,
    );
  const pending = async (work: Promise<unknown>) =>
    (await Promise.race([work.then(() => 'settled'), sleep(50).then(() => 'pending')])) === 'pending';

  it('the first candidate leads at once, the next waits; leader() names the leader, its term and value; isLeader', async () => {
    const name = freshName('elect');
    const [a, b] = [candidate(0, name, { value: 'http://a' }), candidate(1, name, { value: 'http://b' })];
    assert.equal(await b.leader(), null, 'no leader before anyone campaigned');
    const lock = await a.campaign();
    assert.equal(lock.kind, 'leader');
    assert.ok(a.isLeader && !b.isLeader);
    assert.equal(await a.campaign(), lock, 'campaigning while leading: the same leadership');
    const waiting = b.campaign({ waitTime: 20_000 });
    assert.ok(await pending(waiting), 'the second candidate waits');
    const leader = await b.leader();
    assert.deepEqual(
      { term: leader?.term, value: leader?.value, pid: leader?.pid, id: leader?.id },
      { term: lock.fencingToken, value: 'http://a', pid: process.pid, id: nodes[0].driver(fixture.driver).holder?.id },
    );
    await a.resign();
    assert.ok((await abortReason(lock.signal, 1000)) instanceof LockReleasedError, "the resigned leadership's signal aborts");
    const next = await waiting;
    assert.ok(next.fencingToken > lock.fencingToken, 'the term grows');
    assert.ok(b.isLeader && !a.isLeader);
    assert.equal((await a.leader())?.value, 'http://b');
    await b.resign();
    assert.equal(await a.leader(), null);
    assert.equal(await entriesBecome(name, 0), 0, 'nothing left on the server');
  });

  it('resign() hands over within about a round trip, long before the lease would end', async (t) => {
    const name = freshName('handover');
    const ttl = 30_000;
    const [a, b] = [candidate(0, name, { ttl }), candidate(1, name, { ttl })];
    await a.campaign();
    const waiting = b.campaign();
    await entriesBecome(name, 2);
    const resignedAt = performance.now();
    await a.resign();
    await waiting;
    const handoverMs = performance.now() - resignedAt;
    t.diagnostic(`handover ${handoverMs.toFixed(1)} ms after resign()`);
    assert.ok(handoverMs < ttl / 6, `the next candidate led ${handoverMs.toFixed(0)} ms after resign(), not at the ${ttl} ms lease end`);
    await b.resign();
  });

  it('observe() yields the leader now, then each change in order, and ends on its signal', async () => {
    const name = freshName('observe');
    const [a, b, watcher] = [candidate(0, name, { value: 'a' }), candidate(1, name, { value: 'b' }), candidate(2, name)];
    const stop = new AbortController();
    const { seen, ended } = observeInto(watcher, stop.signal);
    const told = (accept: (last: LeaderInfo | null | undefined) => boolean) => eventually(async () => seen.at(-1), accept, 10_000);
    assert.equal(await told((last) => last === null), null, 'first: no leader');
    const first = await a.campaign();
    assert.equal((await told((last) => last?.term === first.fencingToken))?.value, 'a');
    const waiting = b.campaign();
    await entriesBecome(name, 2);
    await a.resign();
    const second = await waiting;
    assert.equal((await told((last) => last?.term === second.fencingToken))?.value, 'b');
    await b.resign();
    assert.equal(await told((last) => last === null), null, 'then no leader again');
    stop.abort();
    await ended;
    const leaders = seen.filter((leader): leader is LeaderInfo => leader !== null);
    assert.deepEqual(
      leaders.map((leader) => [leader.term, leader.value]),
      [
        [first.fencingToken, 'a'],
        [second.fencingToken, 'b'],
      ],
      'every leader once, in order',
    );
  });

  it('observe() ends at shutdown', async () => {
    const app = await startLockerApp(config());
    const { seen, ended } = observeInto(app.service.election(freshName('shutdown')), new AbortController().signal);
    await eventually(
      async () => seen.length,
      (count) => count > 0,
    );
    await app.close();
    assert.equal(await Promise.race([ended.then(() => 'ended'), sleep(5000).then(() => 'still observing')]), 'ended');
  });

  it('waitTime rejects with LockWaitTimeoutError, an abort with its reason, resign() withdraws: none leaves anything behind', async () => {
    const name = freshName('give-up');
    const [a, b] = [candidate(0, name), candidate(1, name)];
    await a.campaign();
    const timedOut = await b.campaign({ waitTime: 300 }).catch((error: unknown) => error);
    assert.ok(timedOut instanceof LockWaitTimeoutError, String(timedOut));
    const controller = new AbortController();
    const aborted = b.campaign({ signal: controller.signal });
    await entriesBecome(name, 2);
    controller.abort(new Error('the candidate gave up'));
    await assert.rejects(aborted, /the candidate gave up/);
    assert.equal(await entriesBecome(name, 1), 1);
    const withdrawn = b.campaign();
    await entriesBecome(name, 2);
    await b.resign();
    await assert.rejects(withdrawn, (error: unknown) => error instanceof LockerError && /withdrawn/.test(error.message));
    assert.equal(await entriesBecome(name, 1), 1, 'only the leader is left');
    assert.ok(a.isLeader);
    await a.resign();
    assert.equal(await entriesBecome(name, 0), 0);
  });

  it('inspect shows the leader (kind, term, value); forceRelease takes it: the leader is told, the next candidate leads', async () => {
    const name = freshName('inspect');
    const ttl = Math.max(fixture.shortTtl, 1000);
    const [a, b] = [candidate(0, name, { ttl, value: 'v-a' }), candidate(1, name, { ttl, value: 'v-b' })];
    const lock = await a.campaign();
    const info = await nodes[0].service.inspect(name, { kind: 'leader' });
    assert.deepEqual([info?.kind, info?.fencingToken, info?.value], ['leader', lock.fencingToken, 'v-a']);
    assert.equal(await nodes[0].service.inspect(name), null, 'the lock of the same name is another lock');
    const waiting = b.campaign();
    await entriesBecome(name, 2);
    assert.equal(await nodes[0].service.forceRelease(name, { kind: 'leader' }), true);
    const next = await waiting;
    assert.ok(next.fencingToken > lock.fencingToken);
    assert.ok((await abortReason(lock.signal, ttl * 2)) instanceof LockLostError, 'the old leader is told at its next renewal');
    assert.ok(!a.isLeader);
    await b.resign();
  });

  it('the proclaimed value stays with the leader when it extends its lease (etcd moves its entry to another lease)', async () => {
    const name = freshName('extend');
    const election = candidate(0, name, { ttl: Math.max(fixture.shortTtl, 1000), value: 'kept' });
    const lock = await election.campaign();
    await lock.extend(Math.max(fixture.shortTtl, 1000) * 3);
    const leader = await candidate(1, name).leader();
    assert.deepEqual([leader?.term, leader?.value], [lock.fencingToken, 'kept']);
    await election.resign();
  });

  it('an election and a lock of one name never interact', async () => {
    const name = freshName('namespaces');
    await candidate(0, name).campaign();
    const lock = await nodes[1].service.tryAcquire(name);
    assert.ok(lock, 'the mutex of the name is free while it has a leader');
    await lock.release();
    await candidate(0, name).resign();
  });

  if (processes) {
    severalProcessElections(
      () => fixture,
      () => nodes[0],
    );
  }
}
