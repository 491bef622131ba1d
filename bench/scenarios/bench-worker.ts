import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { WorkerArgs } from '../worker';

const WORKER = join(__dirname, '..', 'worker.js');

/** A running bench/worker.ts process: its JSON lines, a way to send it commands, and to kill it. */
export class BenchWorker {
  private readonly child: ChildProcess;
  private readonly messages: Record<string, unknown>[] = [];
  private readonly listeners = new Set<() => void>();
  private stderr = '';
  private exitCode: number | null | undefined;

  constructor(args: WorkerArgs) {
    this.child = spawn(process.execPath, ['--expose-gc', WORKER, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.messages.push(JSON.parse(line) as Record<string, unknown>);
      this.listeners.forEach((listener) => listener());
    });
    this.child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    this.child.once('exit', (code) => {
      this.exitCode = code;
      this.listeners.forEach((listener) => listener());
    });
  }

  /** Resolves with the first message that has `field`; rejects if the worker exits first. */
  waitFor<T>(field: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.messages.find((message) => field in message);
        if (found) resolve(found[field] as T);
        else if (this.exitCode !== undefined) reject(new Error(`bench worker exited (${this.exitCode}) before "${field}": ${this.stderr}`));
        else return false;
        this.listeners.delete(check);
        return true;
      };
      if (!check()) this.listeners.add(check);
    });
  }

  /** Every message seen so far that has `field`. */
  all<T>(field: string): T[] {
    return this.messages.filter((message) => field in message).map((message) => message[field] as T);
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exitCode !== undefined) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill(signal);
    return exited;
  }
}
