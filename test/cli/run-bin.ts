import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(__dirname, '..', '..', 'lib', 'cli', 'nest-locker.js');

export interface BinRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built bin as a user would, in its own process, with only `env` added to a bare environment. */
export function nestLocker(args: string[], env: Record<string, string> = {}): Promise<BinRun> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000, env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The keys of a `--json` listing. */
export const keysOf = (run: BinRun): string[] => (JSON.parse(run.stdout) as { key: string }[]).map((lock) => lock.key);
