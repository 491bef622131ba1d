import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { LeaderInfo } from 'nest-locker';
import { lockerConfig } from './faults/environments';
import { useEtcdApp } from './helpers/etcd-app';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

/**
 * An observer whose connection went away while the leader changed, and whose watch revision etcd compacted
 * meanwhile: etcd cancels the resumed watch; the observer must watch again and yield the leader there is.
 */
describe('etcd: an election observer away through a change of leader and a compaction', () => {
  const env = useEtcdApp({ proxied: true }); // the observer's app
  let first: LockerApp;
  let second: LockerApp;
  before(async () => {
    first = await startLockerApp(lockerConfig('etcd', { endpoints: [env.etcd.server!.addr] }));
    second = await startLockerApp(lockerConfig('etcd', { endpoints: [env.etcd.server!.addr] }));
  });
  after(async () => {
    await first?.close();
    await second?.close();
  });

  it('looks again when it is back and yields the new leader', async () => {
    const name = `compacted-election-${process.pid}`;
    const stop = new AbortController();
    const seen: (LeaderInfo | null)[] = [];
    const observing = (async () => {
      for await (const leader of env.app.service.election(name).observe(stop.signal)) seen.push(leader);
    })();
    try {
      const a = await first.service.election(name, { value: 'a' }).campaign();
      await eventually(
        async () => seen.at(-1)?.term,
        (term) => term === a.fencingToken,
        10_000,
      );
      env.proxy.set({ kind: 'cut' });
      env.proxy.resetAll(); // the observer's connection is gone; it reconnects into the cut
      const waiting = second.service.election(name, { value: 'b' }).campaign();
      await first.service.election(name).resign();
      const b = await waiting;
      let revision = '0';
      for (let i = 0; i < 5; i++) revision = (await env.inspector.put(`election-filler-${i}`).value(String(i)).exec()).header.revision;
      await env.inspector.kv.compact({ revision, physical: true });
      env.proxy.set({ kind: 'pass' });

      const last = await eventually(
        async () => seen.at(-1),
        (leader) => leader?.term === b.fencingToken,
        15_000,
      );
      assert.equal(last?.value, 'b', 'the observer yields the leader there is now');
      const terms = seen.filter((leader): leader is LeaderInfo => leader !== null).map((leader) => leader.term);
      assert.deepEqual(terms, [a.fencingToken, b.fencingToken], 'in order, each once');
      await second.service.election(name).resign();
    } finally {
      stop.abort();
      await observing;
    }
  });
});
