import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one instance of the sample app learns from its environment. */
export interface AppEnv {
  /** `INSTANCE`: starts every log line and is named in responses. @default 'node-<pid>' */
  instance: string;
  /** `PORT`: the HTTP port on 127.0.0.1. @default 3000 */
  port: number;
  /** `LOCKER_CONFIG`: the TOML file with the locker sections. @default 'sample-app/app.toml' */
  lockerConfig: string;
  /** `LEDGER_DIR`: where the payments ledger lives, shared by every instance. @default '<tmpdir>/nest-locker-ledger' */
  ledgerDir: string;
}

/** DI token of the `AppEnv`. */
export const APP_ENV = 'sample-app:env';

export function readAppEnv(env: NodeJS.ProcessEnv = process.env): AppEnv {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`PORT: expected a TCP port number, got "${env.PORT}"`);
  }
  return {
    instance: env.INSTANCE || `node-${process.pid}`,
    port,
    lockerConfig: env.LOCKER_CONFIG || 'sample-app/app.toml',
    ledgerDir: env.LEDGER_DIR || join(tmpdir(), 'nest-locker-ledger'),
  };
}
