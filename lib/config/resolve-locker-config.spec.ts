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
      addr: '127.0.0.1:6380',
      host: '127.0.0.1',
      port: 6380,
      password: 'yourpass',
      username: undefined,
      db: 0,
      connectTimeout: 5000,
    });
  });

  const cases: [string, unknown, { section?: string; field?: string; message: RegExp }][] = [
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
