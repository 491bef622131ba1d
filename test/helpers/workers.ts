import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { CriticalSection } from '../src/lock-worker';

const WORKER = join(__dirname, '..', 'src', 'lock-worker.js');

export function spawnWorker(args: object): ChildProcess {
  return spawn(process.execPath, [WORKER, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a hammer worker to its end; its critical sections. */
export function runHammer(args: object): Promise<CriticalSection[]> {
  const child = spawnWorker({ mode: 'hammer', ...args });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  child.stderr?.on('data', (chunk) => (err += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop() as string) as CriticalSection[]);
    });
  });
}

/** Starts a hold worker; resolves with the process and its fencing token once it holds the lock. */
export function startHolder(args: object): Promise<{ child: ChildProcess; token: bigint }> {
  const child = spawnWorker({ mode: 'hold', ...args });
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk) => (err += chunk));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((text) => text.startsWith('{'));
      if (line) resolve({ child, token: BigInt((JSON.parse(line) as { acquired: string }).acquired) });
    });
    child.once('exit', (code) => reject(new Error(`holder exited with ${code} before acquiring: ${err}`)));
  });
}

/** Pairs of critical sections that overlap in time (must be none), after sorting by start. */
export function overlaps(sections: CriticalSection[]): [CriticalSection, CriticalSection][] {
  const sorted = [...sections].sort((a, b) => a.start - b.start);
  const found: [CriticalSection, CriticalSection][] = [];
  for (let i = 1; i < sorted.length; i++) if (sorted[i].start < sorted[i - 1].end) found.push([sorted[i - 1], sorted[i]]);
  return found;
}

/** The most critical sections that were open at one instant. */
export function maxConcurrency(sections: CriticalSection[]): number {
  const events = sections.flatMap((section) => [
    [section.start, 1],
    [section.end, -1],
  ]);
  // at one instant an end comes before a start: touching sections are not concurrent
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, change] of events) most = Math.max(most, (open += change));
  return most;
}
