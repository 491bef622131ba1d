import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, LoggerService, Module, Scope } from '@nestjs/common';
import { Cron, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { filter, firstValueFrom } from 'rxjs';
import {
  Lock,
  LockContext,
  LockedInterval,
  LockerClosedError,
  LockerConfig,
  LockerConfigError,
  LockerModule,
  LockerNotReadyError,
  LockerService,
  WithLock,
} from 'nest-locker';
import { startLockerApp } from '../helpers/locker-app';
import { eventually, sleep } from '../helpers/wait';

const MEMORY = { locker: { driver: 'memory', driver_instance_id: 'memory' } };

/** One provider class that two apps of one process both register. */
@Injectable()
class Reports {
  @WithLock('report')
  async build(): Promise<string | undefined> {
    return LockContext.current()?.key;
  }

  @Cron('0 0 1 1 *', { name: 'nightly' })
  @WithLock('nightly')
  async nightly(): Promise<void> {}
}

class PlainJob {
  @WithLock('plain')
  async run(): Promise<string | undefined> {
    return LockContext.current()?.key;
  }
}

async function startApp(
  providers: unknown[],
  config: LockerConfig = MEMORY,
  logger: LoggerService | false = false,
): Promise<TestingModule> {
  @Module({ imports: [LockerModule.forRoot(config), ScheduleModule.forRoot()], providers: providers as never[] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  moduleRef.useLogger(logger);
  try {
    await moduleRef.init();
  } catch (error) {
    await moduleRef.close(); // a half-started app must not stay attached
    throw error;
  }
  return moduleRef;
}

/** The keys each app's LockerService reported as acquired, in order. */
function acquiredKeys(moduleRef: TestingModule): string[] {
  const keys: string[] = [];
  moduleRef.get(LockerService).events.subscribe((event) => event.type === 'acquired' && keys.push(event.key));
  return keys;
}

describe('app shapes', () => {
  describe('two Nest apps in one process, one provider class in both', () => {
    it('a decorated method locks through its own app, also when called by @Cron, and stops when its app closed', async () => {
      const appA = await startApp([Reports]);
      const appB = await startApp([Reports]); // initialised last
      try {
        const [takenByA, takenByB] = [acquiredKeys(appA), acquiredKeys(appB)];
        assert.equal(await appA.get(Reports).build(), 'report');
        assert.deepEqual([takenByA, takenByB], [['report'], []], "app A's method took its lock through app A");

        const cronDone = firstValueFrom(
          appA.get(LockerService).events.pipe(filter((event) => event.key === 'nightly' && event.type === 'released')),
        );
        await appA.get(SchedulerRegistry).getCronJob('nightly').fireOnTick();
        await cronDone;
        assert.deepEqual([takenByA, takenByB], [['report', 'nightly'], []], "app A's cron tick locked through app A");

        assert.equal(await appB.get(Reports).build(), 'report');
        assert.deepEqual(takenByB, ['report']);

        await appA.close();
        await assert.rejects(appA.get(Reports).build(), LockerNotReadyError, "a closed app's provider does not borrow another app's locks");
        assert.equal(await appB.get(Reports).build(), 'report');
      } finally {
        await appA.close();
        await appB.close();
      }
    });

    it('a plain class (no app made it) locks through the one app there is, and is refused when several could serve it', async () => {
      const appA = await startApp([]);
      try {
        assert.equal(await new PlainJob().run(), 'plain');
        const appB = await startApp([]);
        try {
          await assert.rejects(
            new PlainJob().run(),
            (error: unknown) =>
              error instanceof LockerConfigError && /@WithLock on PlainJob\.run/.test(error.message) && /2 apps/.test(error.message),
          );
        } finally {
          await appB.close();
        }
        assert.equal(await new PlainJob().run(), 'plain', 'one app again');
      } finally {
        await appA.close();
      }
    });
  });

  it('re-entrancy follows the server lock: a nested call through another section with the same connection and key_prefix runs under the outer lock', async () => {
    const section = (key_prefix: string) => ({ driver: 'memory', driver_instance_id: 'memory', key_prefix });
    const config = { locker: section('app/'), same: section('app/'), apart: section('apart/') };
    const app = await startLockerApp(config);
    try {
      const [outer, inner, separate] = await app.service.withLock('k', async (lock) => {
        const nested = await app.service.withLock('k', async (held) => held, { locker: 'same', waitTime: 1000 });
        const other = await app.service.withLock('k', async (held) => held, { locker: 'apart', waitTime: 1000 });
        return [lock, nested, other] as Lock[];
      });
      assert.equal(inner, outer, 'the nested call did not wait for its own lock');
      assert.notEqual(separate, outer, 'another key_prefix is another lock');
    } finally {
      await app.close();
    }
  });

  it('a body whose lock is granted as shutdown begins either does not run or keeps its lock until it ends', async () => {
    const outcomes = new Set<string>();
    // Shutdown starts at every point of the acquisition, microtask by microtask, so one lands between the
    // grant and the start of the body.
    for (let depth = 0; depth < 60; depth++) {
      const app = await startLockerApp(MEMORY);
      const closing = app.close();
      for (let i = 0; i < depth; i++) await Promise.resolve(); // one microtask each
      const heldThroughout = app.service
        .withLock('k', async (lock) => {
          await sleep(5); // shutdown's release phase would come meanwhile
          return lock.held;
        })
        .catch((error: unknown) => (error instanceof LockerClosedError ? 'refused' : error));
      const outcome = await heldThroughout;
      await closing;
      assert.ok(outcome === 'refused' || outcome === true, `at depth ${depth} the body ran and its lock was ${String(outcome)}`);
      outcomes.add(String(outcome));
    }
    assert.deepEqual([...outcomes].sort(), ['refused', 'true'], 'both sides of the race were reached');
  });

  it('a subscriber of events that throws is logged; no uncaught exception, the lock stays held', async () => {
    const errors: string[] = [];
    const quiet = (): void => undefined;
    const logger: LoggerService = {
      log: quiet,
      warn: quiet,
      debug: quiet,
      verbose: quiet,
      error: (message: unknown) => void errors.push(String(message)),
    };
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): number => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const app = await startApp([], MEMORY, logger);
    try {
      const service = app.get(LockerService);
      service.events.subscribe(() => {
        throw new Error('listener bug');
      });
      service.events.pipe(filter((event) => event.type === 'extended')).subscribe({
        next: () => {
          throw new Error('piped listener bug');
        },
      });
      const lock = await service.acquire('observed', { ttl: 3000 });
      await lock.extend(3000);
      await eventually(
        async () => errors.length + uncaught.length,
        (count) => count >= 3,
      );
      await sleep(0); // rxjs would rethrow from a timer of 0 ms
      assert.deepEqual(uncaught, []);
      assert.ok(lock.held, 'still held');
      assert.equal(errors.filter((message) => /LockerService\.events threw/.test(message)).length, 3, errors.join('\n'));
      await lock.release();
    } finally {
      process.off('uncaughtException', onUncaught);
      await app.close();
    }
  });

  describe('@LockedInterval on a provider that is not a singleton', () => {
    for (const scope of [Scope.REQUEST, Scope.TRANSIENT]) {
      it(`fails at bootstrap on a ${scope === Scope.REQUEST ? 'request-scoped' : 'transient'} provider, naming class and method`, async () => {
        @Injectable({ scope })
        class ScopedLoop {
          @LockedInterval(1000)
          async tick(): Promise<void> {}
        }
        await assert.rejects(
          startApp([ScopedLoop]),
          (error: unknown) =>
            error instanceof LockerConfigError &&
            /@LockedInterval on ScopedLoop\.tick/.test(error.message) &&
            /singleton/.test(error.message),
        );
      });
    }
  });
});
