import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LockerConfigError } from '../errors';
import { loadLockerConfig } from './load-locker-config';
import { resolveLockerConfig } from './resolve-locker-config';

const dir = mkdtempSync(join(tmpdir(), 'nest-locker-toml-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadLockerConfig', () => {
  it("reads the seed's app.toml verbatim", () => {
    const path = file(
      'app.toml',
      `
[redis]
addr = "127.0.0.1:6379"
auth = "yourpass"
db = 0
max_idle = 5
idle_timeout = 30

[locker]
driver = "redis"
driver_instance_id = "redis"
`,
    );
    const config = loadLockerConfig(path);
    assert.deepEqual({ ...config.locker }, { driver: 'redis', driver_instance_id: 'redis' });
    assert.equal(resolveLockerConfig(config).instances.get('redis')?.factory.name, 'redis');
  });

  it("reads the seed's etcd variant", () => {
    const config = loadLockerConfig(
      file('etcd.toml', '[etcd]\nendpoints = ["127.0.0.1:2379"]\n\n[locker]\ndriver = "etcd"\ndriver_instance_id = "etcd"\n'),
    );
    assert.deepEqual({ ...config.etcd }, { endpoints: ['127.0.0.1:2379'] });
  });

  it('names the file when it is missing or not TOML', () => {
    assert.throws(
      () => loadLockerConfig(join(dir, 'missing.toml')),
      (error: unknown) => error instanceof LockerConfigError && /missing\.toml.*cannot read/.test(error.message),
    );
    assert.throws(
      () => loadLockerConfig(file('bad.toml', '[locker\ndriver = ')),
      (error: unknown) => error instanceof LockerConfigError && /bad\.toml.*not valid TOML/.test(error.message),
    );
  });
});
