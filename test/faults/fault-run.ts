import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { checkHistory, EventOf, HistoryEvent, HistoryVerdict } from './history';
import { systemNow } from '../helpers/wait';
import { ControllerMessage, FaultWorkerArgs, WorkerMessage } from './protocol';

const WORKER = join(__dirname, 'fault-worker.js');
/** How much of a worker's stderr an error about it quotes. */
const STDERR_TAIL_CHARS = 2_000;

/** One worker process, as the controller sees it. */
export class FaultNode {
  readonly ready: Promise<void>;
  exited = false;
  private readonly pongs = new Map<number, (at: number) => void>();
  private pings = 0;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    // what it writes on stderr is passed on, and its last lines kept for the error if it dies before it is ready
    let stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
    });
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (message: WorkerMessage) => message.type === 'ready' && resolve());
      // 'close': after the exit and its stderr's last lines
      child.once('close', (code) =>
        reject(new Error(`${name} exited (${code}) before it was ready; its stderr ended with: ${stderrTail || '(nothing)'}`)),
      );
    });
    this.ready.catch(() => undefined);
    child.on('message', (message: WorkerMessage) => message.type === 'pong' && this.pongs.get(message.id)?.(message.at));
    child.once('exit', () => (this.exited = true));
  }

  send(message: ControllerMessage): void {
    if (!this.exited && this.child.connected) this.child.send(message);
  }

  /**
   * How far this process's clock reading can be from ours. Each ping bounds it by the offset seen plus
   * half the round trip; the tightest of several is still a true bound, and a busy moment cannot widen it.
   */
  async clockError(pings = 5): Promise<number> {
    let bound = Infinity;
    for (let i = 0; i < pings; i++) {
      const id = ++this.pings;
      const sentAt = systemNow();
      const theirs = await new Promise<number>((resolve) => {
        this.pongs.set(id, resolve);
        this.send({ type: 'ping', id });
      });
      const receivedAt = systemNow();
      bound = Math.min(bound, Math.abs(theirs - (sentAt + receivedAt) / 2) + (receivedAt - sentAt) / 2);
    }
    return bound;
  }
}

export interface FaultRunResult extends HistoryVerdict {
  /** From the fault to the next acquisition by any node; undefined if none came. */
  recoverMs?: number;
  clockErrorMs: number;
}

/**
 * One run of a fault scenario: worker processes contending for one key, a protected resource with and
 * without a fence, and the recorded history, judged at the end.
 */
export class FaultRun {
  readonly nodes: FaultNode[] = [];
  readonly events: HistoryEvent[] = [];
  private readonly highestFencedToken = new Map<string, bigint>();
  private readonly waiters = new Set<() => void>();
  private faultAt?: number;
  /** Measured before any fault, while every worker is idle enough to answer at once (and for each that joins). */
  private clockErrorMs = 0;
  private firstArgs?: FaultWorkerArgs;

  /** Starts one worker per args entry and waits until all are connected to the backend. */
  async start(workers: FaultWorkerArgs[]): Promise<void> {
    for (const args of workers) this.spawn(args);
    await Promise.all(this.nodes.map((node) => node.ready));
    for (const node of this.nodes) this.clockErrorMs = Math.max(this.clockErrorMs, await node.clockError());
  }

  /**
   * A node that joins the run now (as a deploy or a restart would start one), with the first node's settings:
   * it connects to the backend as it is now (after a failover, to the new master). Resolves once it is ready.
   */
  async join(): Promise<FaultNode> {
    const args = { ...this.firstArgs, node: `node-${this.nodes.length + 1}` } as FaultWorkerArgs;
    const node = this.spawn(args);
    await node.ready;
    this.clockErrorMs = Math.max(this.clockErrorMs, await node.clockError());
    return node;
  }

  private spawn(args: FaultWorkerArgs): FaultNode {
    this.firstArgs ??= args;
    const child = fork(WORKER, [JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const node = new FaultNode(args.node, child);
    child.on('message', (message: WorkerMessage) => this.onMessage(node, message));
    this.nodes.push(node);
    return node;
  }

  node(name: string): FaultNode {
    const node = this.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  now = systemNow;

  /** Marks when the fault was injected: recovery is timed from here. */
  markFault(): number {
    this.faultAt = systemNow();
    return this.faultAt;
  }

  recordFrozen(node: string, from: number, to: number): void {
    this.events.push({ kind: 'frozen', node, from, to });
  }

  /** An operator took `key`'s lock on the server just now; its holder must be told within `boundMs`. */
  recordTampered(key: string, boundMs: number): void {
    this.events.push({ kind: 'tampered', key, at: systemNow(), boundMs });
  }

  /** Resolves once `condition` holds, checked at every recorded event; rejects after `withinMs`. */
  async until(condition: () => boolean, withinMs: number, what: string): Promise<void> {
    const deadline = systemNow() + withinMs;
    while (!condition()) {
      const left = deadline - systemNow();
      if (left <= 0) throw new Error(`fault run: ${what} did not happen within ${withinMs} ms; ${this.recentEvents(withinMs)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** What each node recorded in the last `ms`, by kind: where a wait that timed out went. */
  private recentEvents(ms: number): string {
    const since = systemNow() - ms;
    const counts = new Map<string, number>();
    for (const event of this.events) {
      if (!('node' in event) || !('at' in event) || event.at < since) continue;
      const name = `${event.node} ${event.kind}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const tally = [...counts].map(([name, count]) => `${name} ×${count}`).join(', ');
    return `recorded meanwhile: ${tally || 'nothing'}`;
  }

  /** The first event recorded from now on that matches. */
  async next<E extends HistoryEvent>(match: (event: HistoryEvent) => event is E, withinMs: number, what: string): Promise<E> {
    const from = this.events.length;
    let found: E | undefined;
    await this.until(() => (found = this.events.slice(from).find(match)) !== undefined, withinMs, what);
    return found as E;
  }

  /** The next moment some node (or the named one) reads `held === true`: it is between its check and its write. */
  nextHeld(withinMs = 10_000, node?: string): Promise<EventOf<'held'>> {
    return this.next(
      (event): event is EventOf<'held'> => event.kind === 'held' && (!node || event.node === node),
      withinMs,
      'a held reading',
    );
  }

  /** Waits until `count` more acquisitions happened. */
  async acquisitions(count: number, withinMs: number): Promise<void> {
    const from = this.events.length;
    const counted = () => this.events.slice(from).filter((event) => event.kind === 'acquired').length;
    await this.until(() => counted() >= count, withinMs, `${count} acquisitions`);
  }

  /**
   * Waits until `count` more acquisitions happened, each after the fault was marked by its own time: one the
   * fault let in at once may be told only now, yet have happened before the mark (the recovery counts none of those).
   */
  async acquisitionsAfterFault(count: number, withinMs: number): Promise<void> {
    const from = this.events.length;
    const faultAt = this.faultAt ?? -Infinity;
    const counted = () => this.events.slice(from).filter((event) => event.kind === 'acquired' && event.at > faultAt).length;
    await this.until(() => counted() >= count, withinMs, `${count} acquisitions after the fault`);
  }

  /** Stops the workers (each finishes its holding) and judges the history. */
  async finish(): Promise<FaultRunResult> {
    const live = this.nodes.filter((node) => !node.exited);
    for (const node of live) node.send({ type: 'stop' });
    await Promise.all(live.map((node) => exitOf(node, 15_000)));
    const verdict = checkHistory(this.events, this.clockErrorMs);
    const faultAt = this.faultAt;
    const recovered =
      faultAt === undefined ? undefined : this.events.find((e): e is EventOf<'acquired'> => e.kind === 'acquired' && e.at > faultAt);
    return {
      ...verdict,
      clockErrorMs: this.clockErrorMs,
      recoverMs: recovered && faultAt !== undefined ? recovered.at - faultAt : undefined,
    };
  }

  /** Kills whatever is left (after a failure). */
  kill(): void {
    for (const node of this.nodes) if (!node.exited) node.child.kill('SIGKILL');
  }

  private onMessage(node: FaultNode, message: WorkerMessage): void {
    if (message.type === 'event') this.push(message.event);
    else if (message.type === 'write') {
      this.acceptWrite(node.name, message.key, message.token);
      node.send({ type: 'ack', id: message.id });
    }
  }

  /** The protected resource: the same write goes to a fenced copy (refuses older tokens) and an unfenced one. */
  private acceptWrite(node: string, key: string, token: string): void {
    const at = systemNow();
    const value = BigInt(token);
    const highest = this.highestFencedToken.get(key) ?? -1n;
    const accepted = value >= highest;
    if (accepted) this.highestFencedToken.set(key, value);
    this.push({ kind: 'write', node, key, token, at, fenced: true, accepted });
    this.push({ kind: 'write', node, key, token, at, fenced: false, accepted: true });
  }

  private push(event: HistoryEvent): void {
    this.events.push(event);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }
}

function exitOf(node: FaultNode, withinMs: number): Promise<void> {
  if (node.exited) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      node.child.kill('SIGKILL');
      resolve();
    }, withinMs);
    node.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
