/**
 * A process whose app runs a `minHold` body once and closes programmatically: it must then exit on its
 * own, not stay alive until the minHold ends. Prints "closed" once `app.close()` returned.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LockerModule, WithLock } from 'nest-locker';

@Injectable()
class Tick {
  @WithLock('tick', { onBusy: 'skip', minHold: 60_000 })
  async run(): Promise<void> {}
}

@Module({ imports: [LockerModule.forRoot({ locker: { driver: 'memory', driver_instance_id: 'memory' } })], providers: [Tick] })
class AppModule {}

void (async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  await app.get(Tick).run();
  await app.close();
  process.stdout.write('closed\n');
})();
