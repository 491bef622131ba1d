import { ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { DemoFailure, LogBus } from './log-bus';

const alive = new Set<ChildProcess>();
// Whatever ends the demo (an error, Ctrl-C, a bug here), no instance outlives it.
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

/** One `node dist/sample-app/src/main.js` process, its output on the log bus. */
export class AppInstance {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private stopping = false;
  /** performance.now() when the process exited. */
  private exitedAt = 0;
  /** Rejects when the process exits before the demo asked it to. */
  readonly crashed: Promise<never>;
  private crash!: (error: Error) => void;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly main: string,
    private readonly env: Record<string, string>,
    private readonly bus: LogBus,
  ) {
    this.crashed = new Promise<never>((_, reject) => (this.crash = reject));
    this.crashed.catch(() => undefined); // only observed through Promise.race in the steps
  }

  /** The process id, once started: what `nest-locker locks` shows as the holder. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Started, and not yet asked to stop (nor exited). */
  get running(): boolean {
    return !this.stopping && this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): void {
    const child = spawn(process.execPath, [this.main], {
      env: { ...process.env, ...this.env, INSTANCE: this.name, PORT: String(this.port), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    alive.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (text) => this.bus.add(this.name, text));
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        alive.delete(child);
        this.exitedAt = performance.now();
        if (!this.stopping) this.crash(new DemoFailure(`${this.name} exited on its own (${signal ?? `code ${code}`}); see its log above`));
        resolve();
      });
    });
  }

  /** SIGKILL: no shutdown hooks, its locks stay until their leases run out. */
  kill(): void {
    this.stopping = true;
    this.child?.kill('SIGKILL');
  }

  /** Sends SIGTERM (graceful: shutdown hooks release the locks). */
  terminate(): void {
    this.stopping = true;
    this.child?.kill('SIGTERM');
  }

  /** Resolves with when it exited (performance.now()); SIGKILLs it and fails after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.kill();
      await this.exited;
      throw new DemoFailure(`${this.name} did not exit within ${timeoutMs / 1000} s of SIGTERM; killed it`);
    }
    return this.exitedAt;
  }

  /** Stops it gracefully if it still runs (bounded), for the end of the demo. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.terminate();
    await this.waitForExit(15_000);
  }
}
