import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LockerConfig } from 'nest-locker';
import { redisCommand } from './harness/redis-command';
import { RedisSentinelSetup, startRedisSentinel } from './harness/redis-sentinel';
import { makeTestCerts, TestCerts } from './harness/tls-certs';
import { assertHandsOver, refusedAtBootstrap } from './helpers/bootstrap-checks';

const SENTINEL_PASSWORD = 'sentinel-secret';

/** Sentinels that `requirepass`: `sentinel_auth` is their password, apart from the master's `auth`. */
describe('redis driver behind sentinels that require a password', () => {
  let setup: RedisSentinelSetup;
  const config = (fields: Record<string, unknown>): LockerConfig => ({
    redis: { sentinels: setup.sentinelAddrs, master_name: setup.masterName, ...fields },
    locker: { driver: 'redis', driver_instance_id: 'redis' },
  });

  before(async () => (setup = await startRedisSentinel({ sentinelPassword: SENTINEL_PASSWORD })));
  after(async () => setup?.stop());

  it('locks, waits and hands over with sentinel_auth (and an empty auth, as seed configs write it)', async () => {
    await assertHandsOver(config({ sentinel_auth: SENTINEL_PASSWORD, auth: '' }));
  });

  for (const [label, fields] of [
    ['without sentinel_auth', { connect_timeout: 2000 }],
    ['with a wrong sentinel_auth', { sentinel_auth: 'wrong', connect_timeout: 2000 }],
  ] as const) {
    it(`fails at bootstrap ${label}, naming [redis] sentinel_auth`, async () => {
      const error = await refusedAtBootstrap(config(fields));
      assert.equal(error.section, 'redis');
      assert.equal(error.field, 'sentinel_auth');
      assert.match(error.message, /the sentinels refused our credentials/);
      assert.ok(error.message.includes(setup.sentinelAddrs[0]), error.message);
    });
  }
});

/**
 * A sentinel ACL user that may find the master (as ioredis does) but not ask which replicas could take over:
 * no lock write could ever count, so bootstrap fails, naming what to grant. With the two rules it locks.
 */
describe('redis driver behind sentinels, as a sentinel ACL user', () => {
  let setup: RedisSentinelSetup;
  const FINDS_MASTER = ['+sentinel|get-master-addr-by-name', '+sentinel|sentinels'];
  const setUser = (rules: string[]) =>
    Promise.all(
      setup.sentinelAddrs.map((addr) =>
        redisCommand(
          { port: Number(addr.split(':')[1]), password: SENTINEL_PASSWORD },
          'ACL',
          'SETUSER',
          'locker',
          'reset',
          'on',
          '>locker-secret',
          '+ping',
          ...rules,
        ),
      ),
    );
  const config = (): LockerConfig => ({
    redis: {
      sentinels: setup.sentinelAddrs,
      master_name: setup.masterName,
      sentinel_username: 'locker',
      sentinel_auth: 'locker-secret',
      connect_timeout: 2000,
    },
    locker: { driver: 'redis', driver_instance_id: 'redis' },
  });

  before(async () => (setup = await startRedisSentinel({ sentinelPassword: SENTINEL_PASSWORD })));
  after(async () => setup?.stop());

  it('fails at bootstrap without +sentinel|master +sentinel|replicas, naming [redis] sentinel_username and the rules', async () => {
    await setUser(FINDS_MASTER);
    const error = await refusedAtBootstrap(config());
    assert.equal(error.section, 'redis');
    assert.equal(error.field, 'sentinel_username');
    assert.match(error.message, /NOPERM/);
    assert.ok(error.message.includes('+sentinel|master +sentinel|replicas'), error.message);
  });

  it('locks, waits and hands over with them', async () => {
    await setUser([...FINDS_MASTER, '+sentinel|master', '+sentinel|replicas']);
    await assertHandsOver(config());
  });
});

/** Sentinels and servers that speak only TLS: the one `tls` table serves the sentinels and the master. */
describe('redis driver behind Sentinel over TLS', () => {
  let certs: TestCerts;
  let setup: RedisSentinelSetup;
  before(async () => {
    certs = makeTestCerts();
    setup = await startRedisSentinel({
      sentinelPassword: SENTINEL_PASSWORD,
      tls: certs.mutualServer,
    });
  });
  after(async () => {
    await setup?.stop();
    certs?.remove();
  });

  it('locks, waits and hands over with mutual TLS to the sentinels and the master', async () => {
    await assertHandsOver({
      redis: {
        sentinels: setup.sentinelAddrs,
        master_name: setup.masterName,
        sentinel_auth: SENTINEL_PASSWORD,
        tls: certs.clientTable,
      },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    });
  });
});
