import { createServer, Server, Socket } from 'node:net';
import { freePort } from './free-port';
import { resetSocket } from './reset-socket';

/**
 * What the proxy does to traffic:
 * - `pass`: forwards both ways;
 * - `cut`: forwards nothing and closes nothing, like a cable pulled out: the client only notices by timeouts,
 *   and what was sent meanwhile arrives when the cut heals (as TCP would retransmit it). A server that closes
 *   its side meanwhile (a restart) is not seen until the cut heals: then the client's connection is reset;
 * - `delay`: forwards each chunk `delayMs` later, in order;
 * - `hold-answers`: forwards the client's requests but holds the server's answers, as `cut` does: the server
 *   applies what was sent, and the client never learns it.
 */
export type ProxyMode = { kind: 'pass' } | { kind: 'cut' } | { kind: 'delay'; delayMs: number } | { kind: 'hold-answers' };

/** The fault to inject when the client next sends something (e.g. a renewal), before it is forwarded. */
export type RequestFault = 'cut' | 'reset';

interface Link {
  client: Socket;
  server: Socket;
  /** When each direction may deliver its next chunk: keeps delayed chunks in order. */
  clientReadyAt: number;
  serverReadyAt: number;
  /** Chunks held back by a cut, in order, with where each goes. */
  held: { to: Socket; readyAt: 'clientReadyAt' | 'serverReadyAt'; chunk: Buffer }[];
  /** The server closed its side during a cut: the client learns when the cut heals. */
  serverGone: boolean;
}

/**
 * A TCP proxy on a free loopback port in front of one server, for fault injection in tests: cut,
 * delay or reset its connections, now or at the client's next request.
 */
export class FaultProxy {
  private readonly links = new Set<Link>();
  private mode: ProxyMode = { kind: 'pass' };
  private onNextRequest?: { fault: RequestFault; done: () => void };
  private refusing = false;
  private refusedCount = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<FaultProxy> {
    const port = await freePort();
    const server = createServer();
    const proxy = new FaultProxy(server, port, targetPort);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  get connectionCount(): number {
    return this.links.size;
  }

  /** New connections refused (reset as they come) since the proxy started. */
  get refused(): number {
    return this.refusedCount;
  }

  /** While on, new connections are reset as they come (a server that is away for them); open ones go on. */
  refuseNewConnections(refuse: boolean): void {
    this.refusing = refuse;
  }

  set(mode: ProxyMode): void {
    this.mode = mode;
    if (mode.kind === 'cut') return;
    for (const link of this.links) {
      const held = link.held.splice(0);
      for (const { to, readyAt, chunk } of held) this.forward(link, readyAt, to, chunk);
      if (link.serverGone) this.reset(link);
    }
  }

  /** Resets (RST) every connection now; new ones are accepted. */
  resetAll(): void {
    for (const link of this.links) this.reset(link);
  }

  /** Resolves once the fault has hit: at the next chunk the client sends, instead of forwarding it. */
  faultNextRequest(fault: RequestFault): Promise<void> {
    return new Promise((resolve) => (this.onNextRequest = { fault, done: resolve }));
  }

  async close(): Promise<void> {
    for (const link of this.links) this.reset(link);
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      this.refusedCount++;
      resetSocket(client);
      return;
    }
    const server = new Socket();
    const link: Link = { client, server, clientReadyAt: 0, serverReadyAt: 0, held: [], serverGone: false };
    this.links.add(link);
    client.setNoDelay(true);
    server.setNoDelay(true);
    server.connect(this.targetPort, '127.0.0.1');
    client.on('data', (chunk) => {
      const pending = this.onNextRequest;
      if (pending) {
        this.onNextRequest = undefined;
        if (pending.fault === 'reset') {
          this.reset(link);
          pending.done();
          return;
        }
        this.mode = { kind: 'cut' };
        pending.done();
      }
      this.forward(link, 'serverReadyAt', server, chunk);
    });
    server.on('data', (chunk) => this.forward(link, 'clientReadyAt', client, chunk));
    const drop = () => {
      this.links.delete(link);
      client.destroy();
      server.destroy();
    };
    const serverClosed = () => {
      if (this.mode.kind !== 'cut') return drop();
      link.serverGone = true;
      server.destroy();
    };
    client.on('close', drop);
    server.on('close', serverClosed);
    client.on('error', drop);
    server.on('error', serverClosed);
  }

  private forward(link: Link, readyAt: 'clientReadyAt' | 'serverReadyAt', to: Socket, chunk: Buffer): void {
    const mode = this.mode;
    if (mode.kind === 'cut' || (mode.kind === 'hold-answers' && to === link.client)) {
      link.held.push({ to, readyAt, chunk });
      return;
    }
    if (mode.kind === 'pass' && link[readyAt] <= Date.now()) {
      to.write(chunk);
      return;
    }
    const delay = mode.kind === 'delay' ? mode.delayMs : 0;
    const at = Math.max(Date.now() + delay, link[readyAt]);
    link[readyAt] = at;
    setTimeout(() => to.destroyed || to.write(chunk), at - Date.now());
  }

  private reset(link: Link): void {
    this.links.delete(link);
    resetSocket(link.client);
    link.server.destroy();
  }
}
