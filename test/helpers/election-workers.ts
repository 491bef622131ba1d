import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ElectionLine, ElectionWorkerArgs } from '../src/election-worker';

const WORKER = join(__dirname, '..', 'src', 'election-worker.js');

/** One election worker process (test/src/election-worker.ts) and the lines it printed. */
export class ElectionWorker {
  readonly lines: ElectionLine[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private stderr = '';

  constructor(args: ElectionWorkerArgs) {
    this.child = spawn(process.execPath, [WORKER, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() as string;
      for (const line of lines.filter((text) => text.startsWith('{'))) this.lines.push(JSON.parse(line) as ElectionLine);
      for (const wake of [...this.waiters]) wake();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => [...this.waiters].forEach((wake) => wake()));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line (from `from` on) that `match` accepts; rejects after `withinMs` or if the process exits first. */
  async next<E extends ElectionLine['event']>(
    event: E,
    withinMs: number,
    from = 0,
    match: (line: Extract<ElectionLine, { event: E }>) => boolean = () => true,
  ): Promise<Extract<ElectionLine, { event: E }>> {
    const find = () => this.lines.slice(from).find((line) => line.event === event && match(line as Extract<ElectionLine, { event: E }>));
    const deadline = Date.now() + withinMs;
    for (;;) {
      const found = find();
      if (found) return found as Extract<ElectionLine, { event: E }>;
      if (!this.running) throw new Error(`election worker exited before "${event}": ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`election worker: no "${event}" within ${withinMs} ms; it printed ${JSON.stringify(this.lines)} ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM (a graceful shutdown) and its exit, or SIGKILL after `withinMs`. */
  async stop(withinMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), withinMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** Starts a worker and waits until its app is up (an observer: watching). */
export async function startElectionWorker(args: ElectionWorkerArgs): Promise<ElectionWorker> {
  const worker = new ElectionWorker(args);
  await worker.next('ready', 30_000);
  return worker;
}
