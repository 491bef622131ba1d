import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { LockerConfig } from 'nest-locker';
import { CLUSTER_RULES, documentedUserArgs, loginAs } from './harness/redis-acl';
import { RedisCluster, startRedisCluster } from './harness/redis-cluster';
import { refusedAtBootstrap } from './helpers/bootstrap-checks';
import { startLockerApp } from './helpers/locker-app';
import { warnedWhile } from './helpers/logged-warnings';
import { eventually } from './helpers/wait';

/** The documented user with the two cluster commands the docs add for a cluster, under `name`, less `command`. */
const userArgs = (name: string, command?: string): string[] => documentedUserArgs(name, command, CLUSTER_RULES);

/**
 * On a Redis 7 cluster, where releases travel by sharded pub/sub: the bootstrap check runs on the probe key's
 * own master, and a user that may not SSUBSCRIBE is told what that costs (SPUBLISH refused was already a
 * warning: the driver falls back to PUBLISH).
 */
describe('redis permissions on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let perNode: Redis[];
  const config = (user: string): LockerConfig => ({
    redis: { cluster: cluster.addrs, ...loginAs(user) },
    locker: { driver: 'redis', driver_instance_id: 'redis' },
  });
  /** The probe's keys on every master, once its cleanup has landed. */
  const probeKeysLeft = () =>
    eventually(
      async () => (await Promise.all(perNode.map((node) => node.keys('*nest-locker-probe*')))).flat(),
      (keys) => keys.length === 0,
    );

  before(async () => {
    cluster = await startRedisCluster(3, undefined, {
      serverArgs: [...userArgs('documented'), ...userArgs('without-ssubscribe', 'ssubscribe'), ...userArgs('without-del', 'del')],
    });
    perNode = cluster.nodes.map((node) => new Redis({ host: '127.0.0.1', port: node.port }));
  });
  after(async () => {
    perNode?.forEach((node) => node.disconnect());
    await cluster?.stop();
  });

  it('the documented user boots without a warning, and the check leaves no key on any master', async () => {
    const [app, warnings] = await warnedWhile(() => startLockerApp(config('documented')));
    await app.close();
    assert.deepEqual(warnings, []);
    assert.deepEqual(await probeKeysLeft(), []);
  });

  it('without +ssubscribe: the app boots with a warning naming SSUBSCRIBE, +ssubscribe and what waiters lose', async () => {
    const [app, warnings] = await warnedWhile(() => startLockerApp(config('without-ssubscribe')));
    await app.close();
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^\[redis\] username: the redis user "without-ssubscribe" may not run SSUBSCRIBE, so waiters are not told/);
    assert.match(warnings[0], /ACL SETUSER without-ssubscribe \+ssubscribe\)/);
    assert.deepEqual(await probeKeysLeft(), []);
  });

  it('without +del: bootstrap fails with a LockerConfigError naming DEL; nothing stays on any master', async () => {
    const error = await refusedAtBootstrap(config('without-del'));
    assert.equal(error.field, 'username');
    assert.match(error.message, /may not run DEL\b.*ACL SETUSER without-del \+del\)/);
    assert.deepEqual(await probeKeysLeft(), []);
  });
});
