import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LeaderInfo } from 'nest-locker';
import { RedisSentinelSetup, startRedisSentinel } from './harness/redis-sentinel';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

/** An election on the master Redis Sentinel names, and an observer that follows it across a failover. */
describe('redis driver elections behind Redis Sentinel', () => {
  let setup: RedisSentinelSetup;
  let leaderApp: LockerApp;
  let observerApp: LockerApp;

  before(async () => {
    setup = await startRedisSentinel();
    const config = {
      redis: { sentinels: setup.sentinelAddrs, master_name: setup.masterName },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    };
    leaderApp = await startLockerApp(config);
    observerApp = await startLockerApp(config);
  });
  after(async () => {
    await observerApp?.close();
    await leaderApp?.close();
    await setup?.stop();
  });

  it('campaign, leader() and observe() work on the master; after a failover the observer yields the leader there is', async () => {
    const name = `sentinel-election-${process.pid}`;
    const stop = new AbortController();
    const seen: (LeaderInfo | null)[] = [];
    const observing = (async () => {
      for await (const leader of observerApp.service.election(name).observe(stop.signal)) seen.push(leader);
    })();
    try {
      const election = leaderApp.service.election(name, { ttl: 6_000, value: 'on-the-master' });
      const lock = await election.campaign();
      const told = await eventually(
        async () => seen.at(-1),
        (last) => last?.term === lock.fencingToken,
        10_000,
      );
      assert.equal(told?.value, 'on-the-master');

      await setup.failover();
      // the leadership either moved with the replica (and is renewed there) or is lost, maybe only after failover()
      // returned (the driver loses locks held through the old master once the sentinels tell of the failover):
      // then it campaigns again, as @OnLeadership would; either way the observer ends at what the new master says
      const truth = await eventually(
        async () => {
          if (!election.isLeader) await election.campaign({ waitTime: 5_000 }).catch(() => undefined);
          return observerApp.service
            .election(name)
            .leader()
            .catch(() => undefined);
        },
        (leader) => !!leader,
        20_000,
      );
      const last = await eventually(
        async () => seen.at(-1),
        (leader) => leader?.term === truth?.term,
        10_000,
      );
      assert.equal(last?.term, truth?.term, 'the observer names the leader the new master has');
      const terms = seen.filter((leader): leader is LeaderInfo => leader !== null).map((leader) => leader.term);
      assert.ok(
        terms.every((term, index) => index === 0 || term > terms[index - 1]),
        `terms only grow across the failover: ${terms.join(', ')}`,
      );
      await election.resign();
    } finally {
      stop.abort();
      await observing;
    }
  });
});
