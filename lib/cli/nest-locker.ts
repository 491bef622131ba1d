#!/usr/bin/env node
// The package's bin: `nest-locker locks --config app.toml ...` (see locks-command.ts). No Nest app is
// started: the config is read as LockerModule reads it and one driver instance is connected.
import { Logger } from '@nestjs/common';
import { isUsageError, runCli } from './locks-command';

// The drivers' own logs would mix with the listing: only errors, on stderr.
Logger.overrideLogger(['error']);

const exit = (code: number, text: string, stream: NodeJS.WriteStream): void => {
  stream.write(`${text}\n`, () => process.exit(code));
};

runCli(process.argv.slice(2)).then(
  ({ stdout }) => exit(0, stdout, process.stdout),
  (error: unknown) => {
    const message = (error as Error)?.message ?? String(error);
    exit(isUsageError(error) ? 2 : 1, `nest-locker: ${message.split('\n')[0]}`, process.stderr);
  },
);
