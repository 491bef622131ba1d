import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LockerConfigError } from '../errors';
import { resolveLockerConfig } from './resolve-locker-config';

function configError(config: unknown): LockerConfigError {
  try {
    resolveLockerConfig(config as never);
  } catch (error) {
    assert.ok(error instanceof LockerConfigError, `expected LockerConfigError, got ${String(error)}`);
    assert.equal(error.code, 'LOCKER_CONFIG');
    return error;
  }
  assert.fail('the config was accepted');
}

describe('resolveLockerConfig', () => {
  it('accepts the seed shapes, ignores sections no locker uses, and applies key prefixes', () => {
    const resolved = resolveLockerConfig({
      app: { name: 'billing', debug: true },
      redis: { addr: '127.0.0.1:6380', auth: 'yourpass', db: 0, max_idle: 5, idle_timeout: 30 },
      etcd: { endpoints: ['127.0.0.1:2380'] },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
      jobs_locker: { driver: 'etcd', driver_instance_id: 'etcd', key_prefix: 'jobs/' },
    });
    assert.deepEqual([...resolved.lockers.keys()], ['locker', 'jobs_locker']);
    assert.deepEqual([...resolved.instances.keys()], ['redis', 'etcd']);
    assert.equal(resolved.lockers.get('locker')?.keyPrefix, 'nest-locker:');
    assert.equal(resolved.lockers.get('jobs_locker')?.keyPrefix, 'jobs/');
    assert.deepEqual(resolved.instances.get('redis')?.settings, {
      section: 'redis',
      topology: { kind: 'server', addr: '127.0.0.1:6380', host: '127.0.0.1', port: 6380 },
      password: 'yourpass',
      username: undefined,
      sentinelPassword: undefined,
      sentinelUsername: undefined,
      tls: undefined,
      db: 0,
      connectTimeout: 5000,
      commandTimeout: 5000,
    });
  });

  it('accepts a cluster (seed nodes) and sentinels with master_name in [redis]', () => {
    const resolved = resolveLockerConfig({
      redis: { cluster: ['127.0.0.1:7001', 'redis-b:7002'] },
      sentinel_redis: { sentinels: ['127.0.0.1:26380', '[::1]:26381'], master_name: 'locks', db: 2, auth: 'pw' },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
      sentinel_locker: { driver: 'redis', driver_instance_id: 'sentinel_redis' },
    });
    assert.deepEqual(resolved.instances.get('redis')?.settings, {
      section: 'redis',
      topology: {
        kind: 'cluster',
        nodes: [
          { host: '127.0.0.1', port: 7001 },
          { host: 'redis-b', port: 7002 },
        ],
      },
      password: undefined,
      username: undefined,
      sentinelPassword: undefined,
      sentinelUsername: undefined,
      tls: undefined,
      db: 0,
      connectTimeout: 5000,
      commandTimeout: 5000,
    });
    assert.deepEqual(resolved.instances.get('sentinel_redis')?.settings, {
      section: 'sentinel_redis',
      topology: {
        kind: 'sentinel',
        sentinels: [
          { host: '127.0.0.1', port: 26380 },
          { host: '::1', port: 26381 },
        ],
        masterName: 'locks',
      },
      password: 'pw',
      username: undefined,
      sentinelPassword: undefined,
      sentinelUsername: undefined,
      tls: undefined,
      db: 2,
      connectTimeout: 5000,
      commandTimeout: 5000,
    });
  });

  const redisCase = (redis: Record<string, unknown>) => ({ locker: { driver: 'redis', driver_instance_id: 'redis' }, redis });
  const cases: [string, unknown, { section?: string; field?: string; message: RegExp }][] = [
    [
      'a redis section without addr, cluster or sentinels',
      redisCase({ db: 0 }),
      { section: 'redis', field: 'addr', message: /expected exactly one of addr .*cluster .*sentinels .*; none was given/ },
    ],
    [
      'addr and cluster together',
      redisCase({ addr: 'h:1', cluster: ['h:2'] }),
      { section: 'redis', field: 'cluster', message: /expected exactly one of .*; got addr and cluster/ },
    ],
    [
      'cluster and sentinels together',
      redisCase({ cluster: ['h:2'], sentinels: ['h:3'], master_name: 'm' }),
      { section: 'redis', field: 'sentinels', message: /got cluster and sentinels/ },
    ],
    [
      'sentinels without master_name',
      redisCase({ sentinels: ['h:3'] }),
      { section: 'redis', field: 'master_name', message: /expected the name sentinels monitor the master under/ },
    ],
    [
      'an empty master_name',
      redisCase({ sentinels: ['h:3'], master_name: '' }),
      { section: 'redis', field: 'master_name', message: /expected a non-empty string, got ""/ },
    ],
    [
      'master_name without sentinels',
      redisCase({ addr: 'h:1', master_name: 'm' }),
      { section: 'redis', field: 'master_name', message: /only together with sentinels/ },
    ],
    [
      'an empty cluster list',
      redisCase({ cluster: [] }),
      { section: 'redis', field: 'cluster', message: /expected a non-empty list of "host:port"/ },
    ],
    [
      'an empty sentinels list',
      redisCase({ sentinels: [], master_name: 'm' }),
      { section: 'redis', field: 'sentinels', message: /expected a non-empty list of "host:port"/ },
    ],
    [
      'a cluster that is a string',
      redisCase({ cluster: '127.0.0.1:7001' }),
      { section: 'redis', field: 'cluster', message: /expected a non-empty list of "host:port" strings, got "127.0.0.1:7001"/ },
    ],
    [
      'a cluster node without a port',
      redisCase({ cluster: ['127.0.0.1:7001', 'redis-b'] }),
      { section: 'redis', field: 'cluster', message: /expected "host:port" with a port from 1 to 65535, got "redis-b"/ },
    ],
    [
      'a sentinel with a bad port',
      redisCase({ sentinels: ['h:99999'], master_name: 'm' }),
      { section: 'redis', field: 'sentinels', message: /expected "host:port" with a port from 1 to 65535, got "h:99999"/ },
    ],
    [
      'a db other than 0 with cluster',
      redisCase({ cluster: ['h:1'], db: 3 }),
      { section: 'redis', field: 'db', message: /expected 0 \(or no db\) with "cluster".*got 3/ },
    ],
    [
      'an unknown driver',
      { locker: { driver: 'rediss', driver_instance_id: 'redis' }, redis: { addr: 'h:1' } },
      { section: 'locker', field: 'driver', message: /unknown driver "rediss" \(did you mean "redis"\?\)/ },
    ],
    [
      'a missing driver_instance_id',
      { locker: { driver: 'redis' } },
      { section: 'locker', field: 'driver_instance_id', message: /expected a non-empty string, got undefined/ },
    ],
    [
      'a dangling driver_instance_id',
      { locker: { driver: 'redis', driver_instance_id: 'redis2' }, redis: { addr: 'h:1' } },
      { section: 'locker', field: 'driver_instance_id', message: /no section \[redis2\].*did you mean "redis"/ },
    ],
    [
      'a typo in a locker section',
      { locker: { driver: 'redis', driver_instanse_id: 'redis' } },
      { section: 'locker', field: 'driver_instanse_id', message: /unknown field \(did you mean "driver_instance_id"\?\)/ },
    ],
    [
      'a typo in a connection section',
      { locker: { driver: 'redis', driver_instance_id: 'redis' }, redis: { adr: 'h:1' } },
      { section: 'redis', field: 'adr', message: /did you mean "addr"/ },
    ],
    [
      'an addr without a port',
      { locker: { driver: 'redis', driver_instance_id: 'redis' }, redis: { addr: 'localhost' } },
      { section: 'redis', field: 'addr', message: /expected "host:port".*, got "localhost"/ },
    ],
    [
      'a negative db',
      { locker: { driver: 'redis', driver_instance_id: 'redis' }, redis: { addr: 'h:1', db: -1 } },
      { section: 'redis', field: 'db', message: /expected a whole number >= 0/ },
    ],
    [
      'endpoints that are not a list',
      { locker: { driver: 'etcd', driver_instance_id: 'etcd' }, etcd: { endpoints: '127.0.0.1:2379' } },
      { section: 'etcd', field: 'endpoints', message: /expected a non-empty list/ },
    ],
    [
      'one connection section for two drivers',
      {
        redis: { addr: 'h:1' },
        locker: { driver: 'redis', driver_instance_id: 'redis' },
        other: { driver: 'etcd', driver_instance_id: 'redis' },
      },
      { section: 'other', field: 'driver', message: /already used with driver "redis"/ },
    ],
    ['no locker section', { redis: { addr: 'h:1' } }, { section: 'locker', message: /no locker section in the config/ }],
    ['a config that is not an object', 'app.toml', { message: /expected an object of sections/ }],
  ];
  for (const [name, config, expected] of cases) {
    it(`refuses ${name}, naming the section and field`, () => {
      const error = configError(config);
      assert.equal(error.section, expected.section);
      assert.equal(error.field, expected.field);
      assert.match(error.message, expected.message);
    });
  }
});
