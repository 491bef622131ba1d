import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LockerConfig, LockerModule } from 'nest-locker';
import { configErrorOf } from './outcome-table';

const etcd = (command_timeout: unknown): LockerConfig => ({
  etcd: { endpoints: ['127.0.0.1:1'], command_timeout },
  locker: { driver: 'etcd', driver_instance_id: 'etcd' },
});

describe('[etcd] command_timeout', () => {
  for (const [label, value] of [
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['"5s"', '5s'],
    ['Infinity', Infinity],
  ] as const) {
    it(`refuses ${label}, naming the section and field`, async () => {
      const error = await configErrorOf(() => LockerModule.forRoot(etcd(value)));
      assert.equal(error.section, 'etcd');
      assert.equal(error.field, 'command_timeout');
      assert.match(error.message, /expected a whole number >= 1/);
    });
  }
});
