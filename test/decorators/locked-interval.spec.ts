import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LockContext, LockedInterval, LockedIntervalRegistry, LockerConfigError, LockerModule, LockerService } from 'nest-locker';
import { eventually, sleep, systemNow } from '../helpers/wait';

const MEMORY = { locker: { driver: 'memory', driver_instance_id: 'memory' } };

interface Run {
  start: number;
  end: number;
  key?: string;
}

@Injectable()
class ReportJob {
  readonly runs: Run[] = [];
  failEvery = 0;

  @LockedInterval(40)
  async build(): Promise<void> {
    const start = systemNow();
    await sleep(20);
    this.runs.push({ start, end: systemNow(), key: LockContext.current()?.key });
    if (this.failEvery && this.runs.length % this.failEvery === 0) throw new Error('report failed');
  }
}

async function startApp(providers: unknown[], shutdownTimeout?: number) {
  @Module({ imports: [LockerModule.forRoot(MEMORY, { shutdownTimeout })], providers: providers as never[] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

describe('@LockedInterval', () => {
  it('runs the method in a loop under its lock: one run at a time, `interval` ms apart, key ClassName.method', async () => {
    const app = await startApp([ReportJob]);
    const job = app.get(ReportJob);
    await eventually(
      async () => job.runs.length,
      (count) => count >= 4,
    );
    const locker = app.get(LockerService);
    assert.equal(await locker.tryAcquire('ReportJob.build'), null, 'the loop holds its lock between runs');
    await app.close();
    const runs = [...job.runs];
    assert.ok(runs.every((run) => run.key === 'ReportJob.build'));
    for (let i = 1; i < runs.length; i++)
      assert.ok(runs[i].start - runs[i - 1].end >= 39, `runs ${i - 1} and ${i} were ${runs[i].start - runs[i - 1].end} ms apart`);
  });

  it('keeps looping when the body throws, and records the error', async () => {
    const app = await startApp([ReportJob]);
    const job = app.get(ReportJob);
    job.failEvery = 2;
    await eventually(
      async () => job.runs.length,
      (count) => count >= 5,
    );
    const status = app.get(LockedIntervalRegistry).get('ReportJob.build');
    assert.match(String(status.lastError), /report failed/);
    assert.ok(status.runs >= 5);
    await app.close();
  });

  it('is listed, stopped and started by name at run time; a stopped loop releases its lock', async () => {
    const app = await startApp([ReportJob]);
    const registry = app.get(LockedIntervalRegistry);
    const [status] = registry.list();
    assert.equal(status.name, 'ReportJob.build');
    await eventually(
      async () => registry.get('ReportJob.build').holding,
      (holding) => holding,
    );
    await registry.stop('ReportJob.build');
    assert.equal(registry.get('ReportJob.build').state, 'stopped');
    const lock = await app.get(LockerService).tryAcquire('ReportJob.build');
    assert.ok(lock, 'released when stopped');
    await lock.release();
    const runsWhenStopped = app.get(ReportJob).runs.length;
    registry.start('ReportJob.build');
    await eventually(
      async () => app.get(ReportJob).runs.length,
      (count) => count > runsWhenStopped,
    );
    assert.throws(() => registry.get('ReportJob.bild'), /did you mean "ReportJob.build"/);
    await app.close();
  });

  it('on shutdown lets the running body finish, then releases the lock', async () => {
    const order: string[] = [];
    let finish = (): void => undefined;
    @Injectable()
    class SlowJob {
      started = 0;
      @LockedInterval({ key: 'slow', interval: 0 })
      async work(): Promise<void> {
        this.started++;
        await new Promise<void>((resolve) => (finish = resolve));
        order.push('body finished');
      }
    }
    const app = await startApp([SlowJob]);
    app.get(LockerService).events.subscribe((event) => event.key === 'slow' && event.type === 'released' && order.push('lock released'));
    await eventually(
      async () => app.get(SlowJob).started,
      (started) => started === 1,
    );
    const closing = app.close();
    await new Promise((resolve) => setImmediate(resolve)); // shutdown has begun, the body still runs
    assert.deepEqual(order, [], 'the lock is kept while the body runs');
    finish();
    await closing;
    assert.deepEqual(order, ['body finished', 'lock released']);
    assert.equal(app.get(SlowJob).started, 1, 'no run started once shutdown had begun');
  });

  it('fails at bootstrap when two loops share a key', async () => {
    @Injectable()
    class First {
      @LockedInterval({ key: 'shared' })
      async run(): Promise<void> {}
    }
    @Injectable()
    class Second {
      @LockedInterval({ key: 'shared', name: 'second' })
      async run(): Promise<void> {}
    }
    await assert.rejects(
      startApp([First, Second]),
      (error: unknown) =>
        error instanceof LockerConfigError && /lock "shared" is already used by the loop on First\.run/.test(error.message),
    );
  });

  it('refuses bad options and non-methods where the class is defined', () => {
    assert.throws(
      () => LockedInterval({ interval: -1 })({}, 'run', { value: async () => undefined }),
      (error: unknown) => error instanceof LockerConfigError && error.field === 'interval',
    );
    assert.throws(
      () => LockedInterval({ ttl: 0 })({}, 'run', { value: async () => undefined }),
      (error: unknown) => error instanceof LockerConfigError && error.field === 'ttl',
    );
    assert.throws(
      () => LockedInterval({ every: 5 } as never)({}, 'run', { value: async () => undefined }),
      (error: unknown) => error instanceof LockerConfigError && error.field === 'every',
    );
    assert.throws(() => LockedInterval()({}, 'run', { value: 42 }), /expected an instance method/);
  });
});
