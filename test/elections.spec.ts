import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LockerConfigError, LockerError } from 'nest-locker';
import { LockerDriver, registerLockerDriver } from 'nest-locker/driver-kit';
import { LockerApp, startLockerApp } from './helpers/locker-app';

/** A third-party driver of the simplest kind: it takes plain locks only (no `kinds`, no election methods). */
registerLockerDriver({
  name: 'plain-locks-only',
  defaultKeyPrefix: 'plain:',
  parseConnection: () => null,
  create: async (_settings, context): Promise<LockerDriver> => ({
    type: 'plain-locks-only',
    instanceId: context.instanceId,
    acquire: async () => null,
    heldLocks: () => [],
    close: async () => undefined,
  }),
});

describe('election(): one object per name and section, checked input, and drivers that hold no elections', () => {
  let app: LockerApp;
  before(async () => {
    app = await startLockerApp({
      locker: { driver: 'memory', driver_instance_id: 'memory' },
      plain: { driver: 'plain-locks-only', driver_instance_id: 'plain_conn' },
      plain_conn: {},
      second: { driver: 'memory', driver_instance_id: 'memory' },
    });
  });
  after(async () => await app?.close());

  it('gives the same Election for a name and section, with or without the same options; other options are refused', () => {
    const election = app.service.election('same', { ttl: 5_000, value: 'a' });
    assert.equal(app.service.election('same'), election);
    assert.equal(app.service.election('same', { ttl: 5_000, value: 'a' }), election);
    assert.equal(election.name, 'same');
    assert.throws(
      () => app.service.election('same', { ttl: 5_000, value: 'b' }),
      (error: unknown) => error instanceof LockerConfigError && error.field === 'options' && /other options/.test(error.message),
    );
  });

  it('on a section other than the default, the refusal names the call that gives the one made, and that call does', () => {
    const election = app.service.election('elsewhere', { locker: 'second', ttl: 5_000 });
    assert.throws(
      () => app.service.election('elsewhere', { locker: 'second', ttl: 6_000 }),
      (error: unknown) =>
        error instanceof LockerConfigError && error.message.includes(`call election("elsewhere", { locker: "second" }) to get it`),
    );
    assert.equal(app.service.election('elsewhere', { locker: 'second' }), election);
    assert.notEqual(app.service.election('elsewhere'), election, "without options it is the default section's");
  });

  it('refuses bad input at the call, naming the field', async () => {
    for (const [call, field] of [
      [() => app.service.election(''), 'name'],
      [() => app.service.election('x'.repeat(2000)), 'name'],
      [() => app.service.election('bad', { ttl: 5 }), 'ttl'],
      [() => app.service.election('bad', { value: 42 as unknown as string }), 'value'],
      [() => app.service.election('bad', { value: 'x'.repeat(20_000) }), 'value'],
      [() => app.service.election('bad', { waitTime: 1 } as never), 'waitTime'],
      [() => app.service.election('bad', { locker: 'lockr' }), 'locker'],
    ] as const) {
      assert.throws(call, (error: unknown) => error instanceof LockerConfigError && error.field === field, `names ${field}`);
    }
    const election = app.service.election('checked');
    await assert.rejects(
      election.campaign({ ttl: 1_000 } as never),
      (error: unknown) => error instanceof LockerConfigError && error.field === 'ttl' && /election\(name, options\)/.test(error.message),
    );
    await assert.rejects(
      election.campaign({ waitTime: -1 }),
      (error: unknown) => error instanceof LockerConfigError && error.field === 'waitTime',
    );
    await assert.rejects(
      (async () => {
        for await (const _ of election.observe('soon' as never)) break;
      })(),
      (error: unknown) => error instanceof LockerConfigError && error.field === 'signal',
    );
    assert.equal(election.isLeader, false, 'nothing was taken');
  });

  it('a second campaign of one election in one app is refused while the first is on its way', async () => {
    const election = app.service.election('twice');
    const first = election.campaign();
    const second = election.campaign();
    await assert.rejects(second, (error: unknown) => error instanceof LockerError && /already campaigning/.test(error.message));
    await first;
    await election.resign();
  });

  it('a driver without elections is refused at election(), saying what it lacks', () => {
    assert.throws(
      () => app.service.election('feed', { locker: 'plain' }),
      (error: unknown) =>
        error instanceof LockerConfigError &&
        error.field === 'driver' &&
        /"plain-locks-only" driver cannot hold elections: it implements no proclaim\(\), leader\(\), watchLeader\(\)/.test(error.message),
    );
  });
});

describe('observe(): many observers of one app', () => {
  it('twenty observers without a signal of their own raise no leak warning, and all end at app.close()', async () => {
    const app = await startLockerApp({ locker: { driver: 'memory', driver_instance_id: 'memory' } });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const election = app.service.election('crowd');
      const firstLooks: Promise<void>[] = [];
      const ended = Array.from({ length: 20 }, async () => {
        let told!: () => void;
        firstLooks.push(new Promise<void>((resolve) => (told = resolve)));
        for await (const _ of election.observe()) told(); // each waits for the next change after its first look
      });
      await Promise.all(firstLooks);
      await election.campaign(); // a change each observer is told, and waits again
      await election.resign();
      await new Promise((resolve) => setImmediate(resolve)); // a warning is emitted on the next tick
      await app.close();
      await Promise.all(ended);
      assert.deepEqual(
        warnings.map((warning) => `${warning.name}: ${warning.message}`),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      await app.close();
    }
  });
});
