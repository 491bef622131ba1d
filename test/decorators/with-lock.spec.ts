import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, HttpCode, Injectable, Module, Param, Post } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Cron, Interval, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import {
  LockBusyError,
  LockContext,
  LockerConfigError,
  LockerModule,
  LockerNotReadyError,
  LockerService,
  LockLostError,
  WithLock,
} from 'nest-locker';
import { abortReason, eventually, sleep } from '../helpers/wait';

const MEMORY = { locker: { driver: 'memory', driver_instance_id: 'memory' } };
const keyNow = (): string | undefined => LockContext.current()?.key;

/** A class no container manages. */
class PlainReport {
  @WithLock('plain-report')
  async build(): Promise<string | undefined> {
    return keyNow();
  }
}

@Injectable()
class ScheduledJobs {
  readonly seen: Record<string, (string | undefined)[]> = { cronAbove: [], cronBelow: [], intervalAbove: [], intervalBelow: [], event: [] };

  @Cron('0 0 1 1 *', { name: 'cronAbove' })
  @WithLock('cron-above')
  async cronAbove(): Promise<void> {
    this.seen.cronAbove.push(keyNow());
  }

  @WithLock('cron-below')
  @Cron('0 0 1 1 *', { name: 'cronBelow' })
  async cronBelow(): Promise<void> {
    this.seen.cronBelow.push(keyNow());
  }

  @Interval('intervalAbove', 30)
  @WithLock('interval-above', { onBusy: 'skip' })
  async intervalAbove(): Promise<void> {
    this.seen.intervalAbove.push(keyNow());
  }

  @WithLock('interval-below', { onBusy: 'skip' })
  @Interval('intervalBelow', 30)
  async intervalBelow(): Promise<void> {
    this.seen.intervalBelow.push(keyNow());
  }

  @OnEvent('order.paid')
  @WithLock('paid:{0.id}')
  async onPaid(order: { id: number }): Promise<void> {
    this.seen.event.push(`${order.id} under ${keyNow()}`);
  }

  @WithLock((order: { id: number }) => `refund:${order.id}`)
  @OnEvent('order.refunded')
  async onRefunded(order: { id: number }): Promise<void> {
    this.seen.event.push(`${order.id} under ${keyNow()}`);
  }
}

@Controller('orders')
class OrdersController {
  @Post(':id/pay')
  @HttpCode(200)
  @WithLock('order:{0}')
  async pay(@Param('id') id: string): Promise<{ id: string; lock?: string }> {
    return { id, lock: keyNow() };
  }

  @WithLock('order:{0}')
  @Post(':id/refund')
  async refund(@Param('id') id: string): Promise<{ id: string; lock?: string }> {
    return { id, lock: keyNow() };
  }
}

class FactoryMade {
  constructor(readonly label: string) {}

  @WithLock('factory:{0}')
  async work(name: string): Promise<string> {
    return `${this.label} ${name} under ${keyNow()}`;
  }
}

@Injectable()
class Behaviours {
  runs = 0;

  @WithLock('busy', { onBusy: 'skip' })
  async skipWhenBusy(): Promise<string> {
    this.runs++;
    return 'ran';
  }

  @WithLock('busy', { onBusy: 'throw' })
  async throwWhenBusy(): Promise<string> {
    this.runs++;
    return 'ran';
  }

  @WithLock('busy', { waitTime: 2000 })
  async waitWhenBusy(): Promise<string | undefined> {
    return keyNow();
  }

  @WithLock('tick', { onBusy: 'skip', minHold: 400 })
  async shortTick(): Promise<string> {
    return 'done';
  }

  @WithLock('nested')
  async outer(): Promise<[bigint | undefined, bigint | undefined]> {
    return [LockContext.current()?.fencingToken, await this.inner()];
  }

  @WithLock('nested', { waitTime: 500 })
  async inner(): Promise<bigint | undefined> {
    return LockContext.current()?.fencingToken;
  }

  @WithLock('short-lease', { ttl: 150, keepAlive: false })
  async outlivesLease(): Promise<{ reason: unknown; result: string }> {
    const signal = LockContext.current()?.signal;
    return { reason: signal && (await abortReason(signal, 5000)), result: 'finished anyway' };
  }

  @WithLock('user:{0.profile.id}')
  async byProfile(user: { profile?: { id?: number } }): Promise<string | undefined> {
    return user.profile ? keyNow() : undefined;
  }
}

describe('@WithLock', () => {
  it('refuses to run before LockerModule is initialised, without running the body', async () => {
    await assert.rejects(new PlainReport().build(), LockerNotReadyError);
  });

  describe('in an app', () => {
    let moduleRef: TestingModule;
    let locker: LockerService;
    before(async () => {
      @Module({
        imports: [LockerModule.forRoot(MEMORY), ScheduleModule.forRoot(), EventEmitterModule.forRoot()],
        controllers: [OrdersController],
        providers: [ScheduledJobs, Behaviours, { provide: 'FACTORY_MADE', useFactory: () => new FactoryMade('made by a factory') }],
      })
      class AppModule {}
      moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      moduleRef.useLogger(false);
      await moduleRef.init();
      locker = moduleRef.get(LockerService);
    });
    after(async () => moduleRef?.close());

    it('keeps @Cron metadata in either order, and the cron job runs under the lock', async () => {
      const registry = moduleRef.get(SchedulerRegistry);
      const jobs = moduleRef.get(ScheduledJobs);
      await registry.getCronJob('cronAbove').fireOnTick();
      await registry.getCronJob('cronBelow').fireOnTick();
      await eventually(
        async () => jobs.seen.cronAbove.length + jobs.seen.cronBelow.length,
        (count) => count >= 2,
      );
      assert.deepEqual(jobs.seen.cronAbove, ['cron-above']);
      assert.deepEqual(jobs.seen.cronBelow, ['cron-below']);
    });

    it('keeps @Interval metadata in either order', async () => {
      const jobs = moduleRef.get(ScheduledJobs);
      assert.deepEqual(moduleRef.get(SchedulerRegistry).getIntervals().sort(), ['intervalAbove', 'intervalBelow']);
      await eventually(
        async () => Math.min(jobs.seen.intervalAbove.length, jobs.seen.intervalBelow.length),
        (runs) => runs > 0,
      );
      assert.ok(jobs.seen.intervalAbove.length > 0 && jobs.seen.intervalAbove.every((key) => key === 'interval-above'));
      assert.ok(jobs.seen.intervalBelow.length > 0 && jobs.seen.intervalBelow.every((key) => key === 'interval-below'));
    });

    it('keeps @OnEvent metadata in either order, with template and function keys', async () => {
      const emitter = moduleRef.get(EventEmitter2);
      await emitter.emitAsync('order.paid', { id: 7 });
      await emitter.emitAsync('order.refunded', { id: 8 });
      assert.deepEqual(moduleRef.get(ScheduledJobs).seen.event, ['7 under paid:7', '8 under refund:8']);
    });

    it('works on controllers: routes keep working in either order', async () => {
      const http = await Test.createTestingModule({ imports: [LockerModule.forRoot(MEMORY)], controllers: [OrdersController] }).compile();
      const app = http.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      try {
        const base = await app.getUrl();
        const paid = await fetch(`${base}/orders/42/pay`, { method: 'POST' });
        assert.equal(paid.status, 200);
        assert.deepEqual(await paid.json(), { id: '42', lock: 'order:42' });
        const refunded = await fetch(`${base}/orders/43/refund`, { method: 'POST' });
        assert.equal(refunded.status, 201);
        assert.deepEqual(await refunded.json(), { id: '43', lock: 'order:43' });
      } finally {
        await app.close();
      }
    });

    it('works on useFactory providers and on plain classes', async () => {
      assert.equal(await moduleRef.get<FactoryMade>('FACTORY_MADE').work('job'), 'made by a factory job under factory:job');
      assert.equal(await new PlainReport().build(), 'plain-report');
    });

    it("onBusy: 'skip' does not run the body, 'throw' rejects with LockBusyError, 'wait' waits", async () => {
      const behaviours = moduleRef.get(Behaviours);
      const holder = await locker.acquire('busy');
      assert.equal(await behaviours.skipWhenBusy(), undefined);
      await assert.rejects(behaviours.throwWhenBusy(), (error: unknown) => error instanceof LockBusyError && error.key === 'busy');
      assert.equal(behaviours.runs, 0);
      const waiting = behaviours.waitWhenBusy();
      await sleep(50);
      await holder.release();
      assert.equal(await waiting, 'busy');
      assert.equal(await behaviours.skipWhenBusy(), 'ran');
    });

    it('minHold keeps the lock after a short body, so a second tick skips', async () => {
      const behaviours = moduleRef.get(Behaviours);
      const started = performance.now();
      assert.equal(await behaviours.shortTick(), 'done');
      assert.equal(await behaviours.shortTick(), undefined, 'skipped: the first tick still holds the lock');
      assert.equal(await locker.tryAcquire('tick'), null);
      const free = await eventually(
        () => locker.tryAcquire('tick'),
        (lock) => lock !== null,
      );
      assert.ok(free, 'released once minHold passed');
      assert.ok(performance.now() - started >= 400, 'not before minHold passed');
      await free.release();
    });

    it('is re-entrant within one async call chain: a nested call on the same key runs under the outer lock', async () => {
      const [outer, inner] = await moduleRef.get(Behaviours).outer();
      assert.ok(outer !== undefined);
      assert.equal(inner, outer);
    });

    it("aborts the body's signal when the lock is lost mid-body, and still returns the body's result", async () => {
      const { reason, result } = await moduleRef.get(Behaviours).outlivesLease();
      assert.ok(reason instanceof LockLostError);
      assert.equal(result, 'finished anyway');
    });

    it('a template placeholder without a value fails at the call, naming the key', async () => {
      const behaviours = moduleRef.get(Behaviours);
      assert.equal(await behaviours.byProfile({ profile: { id: 3 } }), 'user:3');
      await assert.rejects(
        behaviours.byProfile({}),
        (error: unknown) =>
          error instanceof LockerConfigError && /\{0\.profile\.id\} in 'user:\{0\.profile\.id\}' is undefined/.test(error.message),
      );
    });
  });

  it('refuses bad options where the class is defined', () => {
    const define = (options: object) => () => {
      class Bad {
        @WithLock('k', options)
        async run(): Promise<void> {}
      }
      return Bad;
    };
    for (const [options, field] of [
      [{ onBusy: 'later' }, 'onBusy'],
      [{ minHold: -1 }, 'minHold'],
      [{ ttl: 0 }, 'ttl'],
      [{ wait: 1 }, 'wait'],
    ] as const) {
      assert.throws(
        define(options),
        (error: unknown) => error instanceof LockerConfigError && error.field === field && /@WithLock on Bad\.run/.test(error.message),
      );
    }
    assert.throws(
      () => WithLock('')({}, 'run', { value: async () => undefined }),
      (error: unknown) => error instanceof LockerConfigError && error.field === 'key',
    );
  });

  it('refuses again once the app has shut down', async () => {
    await assert.rejects(new PlainReport().build(), LockerNotReadyError);
  });
});
