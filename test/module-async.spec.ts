import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  getLockerDriverToken,
  LockerConfig,
  LockerConfigError,
  LockerConfigFactory,
  LockerModule,
  LockerModuleAsyncOptions,
  LockerService,
} from 'nest-locker';

const SECTION_NAME = 'sections';

/** What the app's own config provider would give; a class so that Nest can inject it. */
@Injectable()
class AppSettings {
  readonly locker = { driver: 'memory', driver_instance_id: 'memory' };
}

@Injectable()
class SettingsLockerConfig implements LockerConfigFactory {
  constructor(@Inject(AppSettings) private readonly settings: AppSettings) {}

  async createLockerConfig(): Promise<LockerConfig> {
    return { [SECTION_NAME]: this.settings.locker, locker: this.settings.locker };
  }
}

@Module({ providers: [AppSettings, SettingsLockerConfig], exports: [SettingsLockerConfig] })
class SettingsModule {}

/** Boots the module and takes a lock on the section only the factory's config has (`sections`) and one on the default. */
async function lockWith(options: LockerModuleAsyncOptions): Promise<boolean[]> {
  const moduleRef = await Test.createTestingModule({ imports: [LockerModule.forRootAsync(options)] }).compile();
  await moduleRef.init();
  try {
    const service = moduleRef.get(LockerService);
    const locks = [await service.acquire('async', { locker: SECTION_NAME }), await service.acquire('async-default')];
    return locks.map((lock) => lock.held);
  } finally {
    await moduleRef.close();
  }
}

async function bootstrapError(options: LockerModuleAsyncOptions): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({ imports: [LockerModule.forRootAsync(options)] }).compile();
    await moduleRef.close();
  } catch (error) {
    return error;
  }
  assert.fail('the app started');
}

describe('LockerModule.forRootAsync', () => {
  it('useFactory with inject and imports: the factory gets the imported provider', async () => {
    const held = await lockWith({
      imports: [SettingsModule],
      inject: [SettingsLockerConfig],
      useFactory: (factory: SettingsLockerConfig) => factory.createLockerConfig(),
    });
    assert.deepEqual(held, [true, true]);
  });

  it('useClass: the module instantiates the factory class, with a dependency from extraProviders', async () => {
    const held = await lockWith({ useClass: SettingsLockerConfig, extraProviders: [AppSettings] });
    assert.deepEqual(held, [true, true]);
  });

  it('useExisting: the module asks a provider of an imported module', async () => {
    const held = await lockWith({ imports: [SettingsModule], useExisting: SettingsLockerConfig });
    assert.deepEqual(held, [true, true]);
  });

  it('useClass without its dependency fails at bootstrap, naming what Nest could not resolve', async () => {
    const error = await bootstrapError({ useClass: SettingsLockerConfig });
    assert.match(String(error), /AppSettings/);
  });

  it('a bad config from useClass fails at bootstrap with the LockerConfigError of forRoot', async () => {
    @Injectable()
    class BadConfig implements LockerConfigFactory {
      createLockerConfig(): LockerConfig {
        return { locker: { driver: 'nope', driver_instance_id: 'x' } };
      }
    }
    const error = await bootstrapError({ useClass: BadConfig });
    assert.ok(error instanceof LockerConfigError && error.field === 'driver', String(error));
  });

  it('isGlobal and driverInstanceIds keep working beside useClass', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LockerModule.forRootAsync({
          useClass: SettingsLockerConfig,
          extraProviders: [AppSettings],
          isGlobal: false,
          driverInstanceIds: ['memory'],
        }),
      ],
    }).compile();
    await moduleRef.init();
    const driver = moduleRef.get<{ type: string }>(getLockerDriverToken('memory'), { strict: false });
    assert.equal(driver.type, 'memory');
    await moduleRef.close();
  });

  for (const [label, options, field] of [
    ['none of useFactory, useClass, useExisting', {}, 'useFactory'],
    ['both useFactory and useClass', { useFactory: () => ({}), useClass: SettingsLockerConfig }, 'useFactory, useClass'],
    ['useClass that is not a class', { useClass: 'SettingsLockerConfig' }, 'useClass'],
  ] as const) {
    it(`refuses ${label} at the call, naming the fields`, () => {
      assert.throws(
        () => LockerModule.forRootAsync(options as unknown as LockerModuleAsyncOptions),
        (error: unknown) =>
          error instanceof LockerConfigError &&
          error.field === field &&
          error.message.startsWith('[LockerModule.forRootAsync()]') &&
          /useFactory, useClass or useExisting|expected a function or a class/.test(error.message),
      );
    });
  }
});
