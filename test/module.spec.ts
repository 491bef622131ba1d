import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { InjectLockerDriver, LockerConfigError, LockerError, LockerModule, LockerService } from 'nest-locker';
import { LockerDriver, registerLockerDriver } from 'nest-locker/driver-kit';
import { MemoryLockDriver } from '../lib/drivers/memory/memory-lock.driver';
import { freePort } from './harness/free-port';
import { startEtcd, startRedis, TestServer } from './harness/servers';
import { startLockerApp } from './helpers/locker-app';

@Injectable()
class PaymentsService {
  constructor(
    @InjectLockerDriver('redis') readonly driver: LockerDriver,
    readonly locker: LockerService,
  ) {}
}

async function bootstrapError(imports: unknown[]): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({ imports: imports as never[] }).compile();
    await moduleRef.close();
  } catch (error) {
    return error;
  }
  assert.fail('the app started');
}

describe('LockerModule', () => {
  let redis: TestServer;
  let etcd: TestServer;
  before(async () => ([redis, etcd] = await Promise.all([startRedis(), startEtcd()])));
  after(async () => Promise.all([redis?.stop(), etcd?.stop()]));

  it('forRoot provides LockerService and the driver of each used connection section to any provider', async () => {
    const config = {
      redis: { addr: redis.addr },
      etcd: { endpoints: [etcd.addr] },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
      jobs: { driver: 'etcd', driver_instance_id: 'etcd' },
    };
    @Module({ providers: [PaymentsService] })
    class PaymentsModule {}
    const moduleRef = await Test.createTestingModule({ imports: [LockerModule.forRoot(config), PaymentsModule] }).compile();
    await moduleRef.init();
    const payments = moduleRef.get(PaymentsService);
    assert.equal(payments.driver.type, 'redis');
    assert.equal(payments.driver.instanceId, 'redis');
    const onEtcd = await payments.locker.acquire('module-etcd', { locker: 'jobs' });
    const onRedis = await payments.locker.acquire('module-etcd');
    assert.ok(onEtcd.held && onRedis.held, 'one key name, two independent sections');
    assert.deepEqual(payments.driver.heldLocks(), [onRedis]);
    await moduleRef.close();
    assert.equal(onEtcd.held, false, 'shutdown released the etcd lock too');
  });

  it('forRootAsync takes the config from ConfigService', async () => {
    @Injectable()
    class UsesDriver {
      constructor(@InjectLockerDriver('memory') readonly driver: LockerDriver) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ locks: { locker: { driver: 'memory', driver_instance_id: 'memory' } } })],
        }),
        LockerModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow('locks'),
          driverInstanceIds: ['memory'],
        }),
      ],
      providers: [UsesDriver],
    }).compile();
    await moduleRef.init();
    assert.ok(moduleRef.get(UsesDriver).driver instanceof MemoryLockDriver);
    const lock = await moduleRef.get(LockerService).acquire('async-config');
    assert.equal(lock.held, true);
    await moduleRef.close();
  });

  it('forRootAsync fails at bootstrap when its config is bad or a listed driver is not used', async () => {
    const bad = await bootstrapError([
      LockerModule.forRootAsync({ useFactory: async () => ({ locker: { driver: 'nope', driver_instance_id: 'x' } }) }),
    ]);
    assert.ok(bad instanceof LockerConfigError && bad.field === 'driver', String(bad));
    const unused = await bootstrapError([
      LockerModule.forRootAsync({
        useFactory: () => ({ locker: { driver: 'memory', driver_instance_id: 'memory' } }),
        driverInstanceIds: ['redis'],
      }),
    ]);
    assert.ok(unused instanceof LockerConfigError && /no locker section uses \[redis\]/.test(unused.message), String(unused));
  });

  for (const driver of ['redis', 'etcd'] as const) {
    it(`an unreachable ${driver} fails at startup with the address in the error`, async () => {
      const addr = `127.0.0.1:${await freePort()}`;
      const section = driver === 'redis' ? { addr, connect_timeout: 2000 } : { endpoints: [addr], connect_timeout: 2000 };
      const error = await bootstrapError([LockerModule.forRoot({ [driver]: section, locker: { driver, driver_instance_id: driver } })]);
      assert.ok(error instanceof LockerConfigError, String(error));
      assert.equal(error.section, driver);
      assert.ok(error.message.includes(addr), error.message);
    });
  }

  it('a third-party driver registers by name, like the seed RegisterLocker', async () => {
    registerLockerDriver({
      name: 'in-process',
      defaultKeyPrefix: 'ip:',
      parseConnection: () => null,
      create: async (_settings, context) => new MemoryLockDriver(context),
    });
    const app = await startLockerApp({ ip: {}, locker: { driver: 'in-process', driver_instance_id: 'ip' } });
    const lock = await app.service.acquire('third-party');
    assert.equal(await app.service.tryAcquire('third-party'), null);
    await lock.release();
    await app.close();
  });

  it('create() checks the section at once, and a Locker holds one lock at a time', async () => {
    const app = await startLockerApp({ locker: { driver: 'memory', driver_instance_id: 'memory' } });
    assert.throws(
      () => app.service.create('lockr'),
      (error: unknown) => error instanceof LockerConfigError && /did you mean "locker"/.test(error.message),
    );
    const locker = app.service.create();
    await locker.lock('one-at-a-time');
    await assert.rejects(
      locker.lock('another'),
      (error: unknown) => error instanceof LockerError && /already holds "one-at-a-time"/.test(error.message),
    );
    assert.equal(locker.current?.held, true, 'the first lock is kept');
    await locker.unlock();
    await app.close();
  });
});
