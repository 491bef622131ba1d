import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Lock, LockerExceptionFilter, LockerModule, LockerService, LockerUnavailableError, WithLock } from 'nest-locker';

@Controller()
class PayController {
  @Get('busy')
  @WithLock('pay', { onBusy: 'throw' })
  async busy(): Promise<string> {
    return 'paid';
  }

  @Get('wait')
  @WithLock('pay', { waitTime: 100 })
  async wait(): Promise<string> {
    return 'paid';
  }

  @Get('away')
  async away(): Promise<string> {
    // what any call gives while the lock server is away (its own specs show the drivers throwing it)
    throw new LockerUnavailableError({ section: 'locker', driver: 'redis', key: 'pay', cause: new Error('Command timed out') });
  }

  @Get('broken')
  async broken(): Promise<string> {
    throw new Error('a bug, not a lock outcome');
  }
}

describe('LockerExceptionFilter', () => {
  let app: INestApplication;
  let base: string;
  let held: Lock;

  before(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LockerModule.forRoot({ locker: { driver: 'memory', driver_instance_id: 'memory' } })],
      controllers: [PayController],
      providers: [{ provide: APP_FILTER, useClass: LockerExceptionFilter }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    held = await app.get(LockerService).acquire('pay');
  });
  after(async () => {
    await held?.release();
    await app?.close();
  });

  it('answers LockBusyError (onBusy: throw) with 409 Conflict', async () => {
    const response = await fetch(`${base}/busy`);
    assert.equal(response.status, 409);
    assert.deepEqual(await response.json(), {
      statusCode: 409,
      error: 'Conflict',
      code: 'LOCK_BUSY',
      message: `Lock "pay" is held by someone else; the method did not run (onBusy: 'throw').`,
    });
  });

  it('answers LockWaitTimeoutError with 503 Service Unavailable and Retry-After', async () => {
    const response = await fetch(`${base}/wait`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '1');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.code, 'LOCK_WAIT_TIMEOUT');
    assert.match(String(body.message), /waiting for lock "pay" \(waitTime 100 ms\)/);
  });

  it('answers LockerUnavailableError with 503 Service Unavailable and a longer Retry-After', async () => {
    const response = await fetch(`${base}/away`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.code, 'LOCKER_UNAVAILABLE');
    assert.match(String(body.message), /redis server of locker section \[locker\] could not be reached .*no answer within command_timeout/);
  });

  it('leaves other errors to Nest (500), and routes answer normally once the lock is free', async () => {
    assert.equal((await fetch(`${base}/broken`)).status, 500);
    await held.release();
    const response = await fetch(`${base}/busy`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'paid');
  });
});
