import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';

const running = new Set<ChildProcess>();
for (const signal of ['exit', 'SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGKILL');
    if (signal !== 'exit') process.exit(130);
  });
}

/** A server binary run as a child of this process; killed when this process exits, whatever happens. */
export class ServerProcess {
  private child?: ChildProcess;
  private output = '';

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    readonly port: number,
    /** Beyond listening: is it serving? */
    private readonly ready: () => Promise<boolean> = async () => true,
  ) {}

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    this.output = '';
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => running.delete(child));
    const spawnFailed = new Promise<never>((_, reject) =>
      child.once('error', (error) => reject(new Error(`cannot start ${this.name}: ${error.message}`))),
    );
    spawnFailed.catch(() => undefined); // an error after start-up is the exit's business
    await Promise.race([this.waitForPort(child), spawnFailed]);
  }

  /** SIGKILL: no clean shutdown, no chance to persist anything. */
  async kill(): Promise<void> {
    await this.stopWith('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.stopWith('SIGTERM');
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing, like a hung node. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** The server dies and comes back on the same port. */
  async restart(downForMs = 0): Promise<void> {
    await this.kill();
    if (downForMs > 0) await new Promise((resolve) => setTimeout(resolve, downForMs));
    await this.start();
  }

  private async stopWith(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  private async waitForPort(child: ChildProcess): Promise<void> {
    const started = Date.now();
    while (Date.now() - started < 20_000) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}: ${this.output}`);
      if ((await canConnect(this.port)) && (await this.ready().catch(() => false))) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${this.name} did not listen on 127.0.0.1:${this.port} within 20 s: ${this.output}`);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
