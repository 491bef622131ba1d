import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readAppEnv } from './app-env.config';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const env = readAppEnv();
  // Every line starts with "[<instance>]", so the logs of several instances interleave readably.
  const logger = new ConsoleLogger({ prefix: env.instance });
  const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
  // SIGTERM/SIGINT run the shutdown hooks: LockerModule finishes running bodies and releases its locks,
  // so another instance takes over at once instead of after the lease runs out.
  app.enableShutdownHooks();
  await app.listen(env.port, '127.0.0.1');
  new Logger('Bootstrap').log(`${env.instance} listening on http://127.0.0.1:${env.port}`);
}

bootstrap().catch((error: unknown) => {
  console.error(`[${readAppEnv().instance}] failed to start:`, error);
  process.exit(1);
});
