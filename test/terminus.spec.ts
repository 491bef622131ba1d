import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LockerModule } from 'nest-locker';
import { LockerHealthIndicator } from 'nest-locker/terminus';
import { DriverFixture, redisFixture } from './conformance/driver-fixtures';
import { lockerConfig } from './faults/environments';
import { FaultProxy } from './harness/fault-proxy';
// the sample app's endpoint, as a user writes it
import { HealthController } from '../sample-app/src/health.controller';

describe('nest-locker/terminus: LockerHealthIndicator behind a /health endpoint', () => {
  let fixture: DriverFixture;
  let proxy: FaultProxy;
  let app: INestApplication;
  let url: string;

  before(async () => {
    fixture = await redisFixture();
    proxy = await FaultProxy.start(fixture.server!.port);
    @Module({
      imports: [LockerModule.forRoot(lockerConfig('redis', { addr: proxy.addr, command_timeout: 1000 })), TerminusModule],
      controllers: [HealthController],
      providers: [LockerHealthIndicator],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/health`;
  });
  after(async () => {
    proxy?.set({ kind: 'pass' });
    await app?.close();
    await proxy?.close();
    await fixture?.close();
  });

  it('answers 200 with the locker up and its driver instances', async () => {
    const response = await fetch(url);
    const body = (await response.json()) as { status: string; info: Record<string, { status: string; drivers: Record<string, unknown> }> };
    assert.equal(response.status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.info.locker.status, 'up');
    assert.deepEqual(Object.keys(body.info.locker.drivers), ['redis']);
  });

  it('answers 503 naming the driver instance that is down while redis does not answer', async () => {
    proxy.set({ kind: 'cut' });
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const body = (await response.json()) as {
        status: string;
        error: Record<string, { status: string; drivers: Record<string, { status: string; error: string }> }>;
      };
      assert.equal(response.status, 503);
      assert.equal(body.error.locker.status, 'down');
      assert.equal(body.error.locker.drivers.redis.status, 'down');
      assert.match(body.error.locker.drivers.redis.error, /.+/);
    } finally {
      proxy.set({ kind: 'pass' });
    }
  });
});
