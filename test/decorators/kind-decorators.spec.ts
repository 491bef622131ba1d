import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, HttpCode, Injectable, Param, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Cron, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import {
  LockBusyError,
  LockContext,
  LockerConfigError,
  LockerExceptionFilter,
  LockerModule,
  LockerService,
  WithPermit,
  WithReadLock,
  WithWriteLock,
} from 'nest-locker';
import { eventually } from '../helpers/wait';

const MEMORY = { locker: { driver: 'memory', driver_instance_id: 'memory' } };

/** A gate the test opens: bodies that pass through it stay inside their lock until then. */
class Gate {
  private opened!: () => void;
  readonly open = new Promise<void>((resolve) => (this.opened = resolve));
  let(): void {
    this.opened();
  }
}

@Injectable()
class Exports {
  running = 0;
  most = 0;
  gate = new Gate();

  @WithPermit('exports', { limit: 2, waitTime: 10_000 })
  async build(): Promise<string | undefined> {
    this.running++;
    this.most = Math.max(this.most, this.running);
    try {
      await this.gate.open;
      return `${LockContext.current()?.kind} ${LockContext.current()?.key}`;
    } finally {
      this.running--;
    }
  }

  @WithPermit('exports', { limit: 2, onBusy: 'throw' })
  async buildNow(): Promise<string> {
    return 'built';
  }

  readonly ticks: (string | undefined)[] = [];

  @Cron('0 0 1 1 *', { name: 'permitAbove' })
  @WithPermit('nightly', { limit: 1 })
  async above(): Promise<void> {
    this.ticks.push(LockContext.current()?.kind);
  }

  @WithPermit('nightly', { limit: 1 })
  @Cron('0 0 1 1 *', { name: 'permitBelow' })
  async below(): Promise<void> {
    this.ticks.push(LockContext.current()?.kind);
  }
}

@Injectable()
class PriceTable {
  gate = new Gate();

  @WithReadLock('prices')
  async read(): Promise<string | undefined> {
    await this.gate.open;
    return LockContext.current()?.kind;
  }

  @WithWriteLock('prices', { onBusy: 'skip' })
  async rebuildIfFree(): Promise<string> {
    return 'rebuilt';
  }

  @WithWriteLock('prices')
  async rebuildAndRead(): Promise<[string | undefined, string | undefined]> {
    return [LockContext.current()?.kind, await this.read()];
  }
}

@Controller('exports')
class ExportsController {
  @Post(':id')
  @HttpCode(200)
  @WithPermit('http-exports', { limit: 1, onBusy: 'throw' })
  async start(@Param('id') id: string): Promise<{ id: string }> {
    return { id };
  }
}

describe('@WithPermit, @WithReadLock, @WithWriteLock', () => {
  let moduleRef: TestingModule;
  let locker: LockerService;
  before(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [LockerModule.forRoot(MEMORY), ScheduleModule.forRoot()],
      providers: [Exports, PriceTable],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    locker = moduleRef.get(LockerService);
  });
  after(async () => moduleRef?.close());

  it('@WithPermit lets at most limit calls run at once; the next waits, or with onBusy: throw is refused', async () => {
    const exports = moduleRef.get(Exports);
    const calls = [exports.build(), exports.build(), exports.build()];
    await eventually(
      async () => exports.running,
      (running) => running === 2,
    );
    await assert.rejects(exports.buildNow(), LockBusyError);
    exports.gate.let();
    assert.deepEqual(await Promise.all(calls), ['permit exports', 'permit exports', 'permit exports']);
    assert.equal(exports.most, 2);
    assert.equal(await exports.buildNow(), 'built');
  });

  it('keeps @Cron metadata in either order, and the tick runs holding a permit', async () => {
    const registry = moduleRef.get(SchedulerRegistry);
    await registry.getCronJob('permitAbove').fireOnTick();
    await registry.getCronJob('permitBelow').fireOnTick();
    const exports = moduleRef.get(Exports);
    await eventually(
      async () => exports.ticks.length,
      (count) => count === 2,
    );
    assert.deepEqual(exports.ticks, ['permit', 'permit']);
  });

  it('@WithReadLock methods run side by side; @WithWriteLock waits for them, and covers a read inside it', async () => {
    const table = moduleRef.get(PriceTable);
    const readers = [table.read(), table.read()];
    await eventually(
      async () => (await locker.inspect('prices', { kind: 'read' }))?.holders?.length,
      (held) => held === 2,
    );
    assert.equal(await table.rebuildIfFree(), undefined, 'no writer beside readers');
    table.gate.let();
    assert.deepEqual(await Promise.all(readers), ['read', 'read']);
    assert.deepEqual(await table.rebuildAndRead(), ['write', 'write'], 'the read inside runs under the write lock');
    assert.equal(await table.rebuildIfFree(), 'rebuilt');
  });

  it('answers a busy @WithPermit route with 409 through LockerExceptionFilter', async () => {
    const http = await Test.createTestingModule({
      imports: [LockerModule.forRoot(MEMORY)],
      controllers: [ExportsController],
      providers: [{ provide: APP_FILTER, useClass: LockerExceptionFilter }],
    }).compile();
    const app = http.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const base = await app.getUrl();
      const held = await app.get(LockerService).acquirePermit('http-exports', { limit: 1 });
      const busy = await fetch(`${base}/exports/7`, { method: 'POST' });
      assert.equal(busy.status, 409);
      assert.deepEqual(await busy.json(), {
        statusCode: 409,
        error: 'Conflict',
        code: 'LOCK_BUSY',
        message: `All permits of "http-exports" are held (limit 1); the method did not run (onBusy: 'throw').`,
      });
      await held.release();
      const started = await fetch(`${base}/exports/7`, { method: 'POST' });
      assert.deepEqual([started.status, await started.json()], [200, { id: '7' }]);
    } finally {
      await app.close();
    }
  });

  it('refuses a bad limit, or none, where the class is defined, naming limit and the method', () => {
    for (const options of [{ limit: 0 }, { limit: 2.5 }, { limit: '3' }, {}]) {
      assert.throws(
        () => {
          class Bad {
            @WithPermit('k', options as { limit: number })
            async run(): Promise<void> {}
          }
          return Bad;
        },
        (error: unknown) => error instanceof LockerConfigError && error.field === 'limit' && /@WithPermit on Bad\.run/.test(error.message),
        JSON.stringify(options),
      );
    }
  });
});
