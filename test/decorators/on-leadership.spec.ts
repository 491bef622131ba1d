import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Injectable, LoggerService, Module, OnModuleInit, Scope } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  Election,
  LockContext,
  LockerClosedError,
  LockerConfig,
  LockerConfigError,
  LockerModule,
  LockerService,
  LockLostError,
  OnLeadership,
} from 'nest-locker';
import { startRedis, TestServer } from '../harness/servers';
import { abortReason, eventually, sleep, systemNow } from '../helpers/wait';

const MEMORY: LockerConfig = { locker: { driver: 'memory', driver_instance_id: 'memory' } };

interface Run {
  start: number;
  end?: number;
  term?: bigint;
  kind?: string;
  reason?: unknown;
}

/** How the leader's method behaves this time. */
type Behaviour = 'lead until aborted' | 'return' | 'throw' | { ignoreSignalFor: number };

/** The body of the leaders below: records its run, then behaves as told. */
async function lead(runs: Run[], behaviour: Behaviour, signal: AbortSignal): Promise<void> {
  const lock = LockContext.current();
  const run: Run = { start: systemNow(), term: lock?.fencingToken, kind: lock?.kind };
  runs.push(run);
  try {
    if (behaviour === 'return') return;
    if (behaviour === 'throw') throw new Error('the feed broke');
    const reason = await abortReason(signal, 60_000);
    run.reason = reason;
    if (typeof behaviour === 'object') await sleep(behaviour.ignoreSignalFor);
  } finally {
    run.end = systemNow();
  }
}

@Injectable()
class FeedOwner {
  /** How the next app's leader behaves: set before it starts (it may lead at once). */
  static behaviour: Behaviour = 'lead until aborted';
  readonly runs: Run[] = [];
  private readonly behaviour = FeedOwner.behaviour;

  @OnLeadership('feed', { ttl: 1_000, retryInterval: 50, value: 'http://me' })
  own(signal: AbortSignal): Promise<void> {
    return lead(this.runs, this.behaviour, signal);
  }
}

/** A leader whose lease would outlast the test: a takeover within it is the resign's doing. */
@Injectable()
class LongLeaseFeedOwner {
  readonly runs: Run[] = [];

  @OnLeadership({ ttl: 30_000, retryInterval: 50 })
  own(signal: AbortSignal): Promise<void> {
    return lead(this.runs, 'lead until aborted', signal);
  }
}

/** Log lines through the Nest logger, as `level: message`. */
function capturingLogger(lines: string[]): LoggerService {
  const keep = (level: string) => (message: unknown) => void lines.push(`${level}: ${String(message)}`);
  return { log: keep('log'), error: keep('error'), warn: keep('warn'), debug: keep('debug'), verbose: keep('verbose') };
}

async function startApp(config: LockerConfig, providers: unknown[], logs: string[] = [], shutdownTimeout?: number): Promise<TestingModule> {
  @Module({ imports: [LockerModule.forRoot(config, { shutdownTimeout })], providers: providers as never[] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  moduleRef.useLogger(capturingLogger(logs));
  await moduleRef.init();
  return moduleRef;
}

/** Bootstrap's error, or undefined. */
async function bootstrapError(config: LockerConfig, providers: unknown[]): Promise<unknown> {
  try {
    const app = await startApp(config, providers);
    await app.close();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('@OnLeadership', () => {
  beforeEach(() => (FeedOwner.behaviour = 'lead until aborted'));

  it("calls the leader's method with an AbortSignal, under its leadership, and it leads while the method runs", async () => {
    const app = await startApp(MEMORY, [FeedOwner]);
    const owner = app.get(FeedOwner);
    const election = app.get(LockerService).election('feed');
    await eventually(
      async () => owner.runs.length,
      (count) => count === 1,
    );
    assert.equal(owner.runs[0].kind, 'leader', 'LockContext.current() is the leadership');
    assert.ok(election.isLeader, 'the same Election as election(name) gives');
    assert.deepEqual([(await election.leader())?.value, (await election.leader())?.term], ['http://me', owner.runs[0].term]);
    await app.close();
    assert.ok(owner.runs[0].reason instanceof LockerClosedError, `shutdown aborted the signal: ${String(owner.runs[0].reason)}`);
  });

  it('a provider that asks election(name) at its own init gets the decorated election', async () => {
    @Injectable()
    class FeedViewer implements OnModuleInit {
      election?: Election;
      constructor(private readonly locker: LockerService) {}
      onModuleInit(): void {
        this.election = this.locker.election('feed');
      }
    }
    const app = await startApp(MEMORY, [FeedOwner, FeedViewer]);
    const viewer = app.get(FeedViewer);
    assert.equal(viewer.election, app.get(LockerService).election('feed'));
    await eventually(
      async () => viewer.election?.isLeader,
      (leading) => leading === true,
    );
    assert.equal((await viewer.election?.leader())?.value, 'http://me', "the decorator's options");
    await app.close();
  });

  it('campaign() by hand on an election that @OnLeadership campaigns for is refused, naming the method; the loop leads on', async () => {
    const logs: string[] = [];
    const app = await startApp(MEMORY, [FeedOwner], logs);
    try {
      const election = app.get(LockerService).election('feed');
      // at once, as a service's onApplicationBootstrap would, and again once the method leads
      const refused = [election.campaign()];
      await eventually(
        async () => app.get(FeedOwner).runs.length,
        (count) => count === 1,
      );
      refused.push(election.campaign());
      for (const campaign of refused) {
        await assert.rejects(
          campaign,
          (error: unknown) =>
            error instanceof LockerConfigError && /@OnLeadership on FeedOwner\.own campaigns for election "feed"/.test(error.message),
        );
      }
      assert.ok(election.isLeader, 'the decorated method leads');
      assert.deepEqual(
        logs.filter((line) => line.startsWith('error:')),
        [],
        'the loop logged no failed campaign',
      );
    } finally {
      await app.close();
    }
  });

  it('when the method returns, the instance resigns and campaigns again after retryInterval', async () => {
    FeedOwner.behaviour = 'return';
    const app = await startApp(MEMORY, [FeedOwner]);
    const owner = app.get(FeedOwner);
    await eventually(
      async () => owner.runs.length,
      (count) => count >= 3,
    );
    await app.close();
    const runs = owner.runs;
    for (let i = 1; i < runs.length; i++) {
      assert.ok((runs[i].term as bigint) > (runs[i - 1].term as bigint), 'a new term each time');
      assert.ok(
        runs[i].start - (runs[i - 1].end as number) >= 45,
        `campaigned again ${runs[i].start - (runs[i - 1].end as number)} ms later`,
      );
    }
  });

  it('when the method throws, the error is logged with its name, and it resigns and campaigns again', async () => {
    const logs: string[] = [];
    FeedOwner.behaviour = 'throw';
    const app = await startApp(MEMORY, [FeedOwner], logs);
    const owner = app.get(FeedOwner);
    await eventually(
      async () => owner.runs.length,
      (count) => count >= 2,
    );
    await app.close();
    assert.ok(
      logs.some((line) => /^error: FeedOwner\.own threw while leading "feed"; resigning: .*the feed broke/.test(line)),
      logs.join('\n'),
    );
  });

  it('lost leadership aborts the signal with a LockLostError; it campaigns again', async () => {
    const app = await startApp(MEMORY, [FeedOwner]);
    const owner = app.get(FeedOwner);
    await eventually(
      async () => owner.runs.length,
      (count) => count === 1,
    );
    assert.equal(await app.get(LockerService).forceRelease('feed', { kind: 'leader' }), true);
    await eventually(
      async () => owner.runs.length,
      (count) => count === 2,
      5_000,
    );
    assert.ok(owner.runs[0].reason instanceof LockLostError, String(owner.runs[0].reason));
    assert.ok((owner.runs[1].term as bigint) > (owner.runs[0].term as bigint));
    await app.close();
  });

  it('a method that ignores its signal is logged with its name and how long it overran; shutdown stays bounded', async () => {
    const logs: string[] = [];
    FeedOwner.behaviour = { ignoreSignalFor: 1_500 };
    const app = await startApp(MEMORY, [FeedOwner], logs, 300);
    const owner = app.get(FeedOwner);
    await eventually(
      async () => owner.runs.length,
      (count) => count === 1,
    );
    const closing = performance.now();
    await app.close();
    const closeMs = performance.now() - closing;
    assert.ok(closeMs < 1_400, `shutdown took ${closeMs.toFixed(0)} ms, bounded by shutdownTimeout (300 ms) and the release`);
    assert.ok(
      logs.some((line) => /^warn: FeedOwner\.own ignored its signal: still running \d+ ms after shutdown aborted it/.test(line)),
      logs.join('\n'),
    );
    await eventually(
      async () => owner.runs[0].end,
      (end) => end !== undefined,
      5_000,
    );
  });

  it('an overrun after lost leadership is logged when the method returns', async () => {
    const logs: string[] = [];
    FeedOwner.behaviour = { ignoreSignalFor: 400 };
    const app = await startApp(MEMORY, [FeedOwner], logs);
    const owner = app.get(FeedOwner);
    await eventually(
      async () => owner.runs.length,
      (count) => count === 1,
    );
    await app.get(LockerService).forceRelease('feed', { kind: 'leader' });
    const overran = await eventually(
      async () => logs.find((line) => line.includes('overran')),
      (line) => line !== undefined,
      5_000,
    );
    assert.match(overran ?? '', /^warn: FeedOwner\.own overran its leadership of "feed" by \d+ ms/);
    await app.close();
  });

  describe('across instances (redis)', () => {
    let server: TestServer;
    let config: LockerConfig;
    before(async () => {
      server = await startRedis();
      config = { redis: { addr: server.addr }, locker: { driver: 'redis', driver_instance_id: 'redis' } };
    });
    after(async () => await server?.stop());

    it('one instance leads; at its shutdown it resigns, so another leads at once (not at the lease end)', async (t) => {
      const first = await startApp(config, [LongLeaseFeedOwner]);
      await eventually(
        async () => first.get(LongLeaseFeedOwner).runs.length,
        (count) => count === 1,
      );
      const second = await startApp(config, [LongLeaseFeedOwner]); // campaigns from its bootstrap on
      const closedAt = systemNow();
      await first.close();
      const next = await eventually(
        async () => second.get(LongLeaseFeedOwner).runs[0],
        (run) => run !== undefined,
        10_000,
      );
      assert.ok(next, 'the second instance leads');
      t.diagnostic(`the second instance led ${(next.start - closedAt).toFixed(0)} ms after the first began shutting down`);
      assert.ok(next.start >= (first.get(LongLeaseFeedOwner).runs[0].end as number), 'the next began after the first returned');
      assert.ok(next.start - closedAt < 5_000, 'long before the 30 s lease would have run out');
      assert.equal(second.get(LockerService).election('LongLeaseFeedOwner.own').isLeader, true, 'the default name: ClassName.methodName');
      await second.close();
      // one leader at a time, over the whole test: no run of one instance overlaps a run of the other
      const runs = [first, second].flatMap((app, instance) => app.get(LongLeaseFeedOwner).runs.map((run) => ({ instance, ...run })));
      runs.sort((a, b) => a.start - b.start);
      for (const [earlier, later] of runs.slice(1).map((run, i) => [runs[i], run] as const)) {
        assert.ok(later.start >= (earlier.end as number), `instance ${later.instance} led while instance ${earlier.instance} did`);
      }
    });
  });

  describe('misuse fails where it is declared, or at bootstrap', () => {
    it('bad options name the field', () => {
      for (const [args, field] of [
        [[''], 'name'],
        [['feed', { ttl: 5 }], 'ttl'],
        [['feed', { retryInterval: -1 }], 'retryInterval'],
        [['feed', { value: 42 }], 'value'],
        [['feed', { interval: 1 }], 'interval'],
      ] as const) {
        assert.throws(
          () => {
            class Bad {
              @OnLeadership(...(args as unknown as [string]))
              run(): void {}
            }
            return Bad;
          },
          (error: unknown) => error instanceof LockerConfigError && error.field === field,
          `${JSON.stringify(args)} names ${field}`,
        );
      }
    });

    it('two methods in one election, an unknown locker section, a request-scoped provider: bootstrap fails', async () => {
      @Injectable()
      class Twin {
        @OnLeadership('feed')
        async own(): Promise<void> {}
      }
      const twice = await bootstrapError(MEMORY, [FeedOwner, Twin]);
      assert.ok(twice instanceof LockerConfigError && /already led by FeedOwner\.own/.test(twice.message), String(twice));

      @Injectable()
      class Elsewhere {
        @OnLeadership({ locker: 'nope' })
        async own(): Promise<void> {}
      }
      const unknown = await bootstrapError(MEMORY, [Elsewhere]);
      assert.ok(unknown instanceof LockerConfigError && /no locker section \[nope\]/.test(unknown.message), String(unknown));

      @Injectable({ scope: Scope.REQUEST })
      class PerRequest {
        @OnLeadership()
        async own(): Promise<void> {}
      }
      const scoped = await bootstrapError(MEMORY, [PerRequest]);
      assert.ok(scoped instanceof LockerConfigError && /request-scoped/.test(scoped.message), String(scoped));
    });
  });
});
