import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it, TestContext } from 'node:test';
import type { LockerConfig } from 'nest-locker';
import { FaultProxy } from '../harness/fault-proxy';
import { freePort } from '../harness/free-port';
import { startEtcd, startRedis, TestServer } from '../harness/servers';
import { makeTestCerts, TestCerts } from '../harness/tls-certs';

/**
 * What the README promises: a process exits on its own within this of `app.close()` returning (or of a
 * failed bootstrap), whatever its server does. Measured at most 0.36 s on redis (ioredis' disconnectTimeout,
 * 100 ms) and 1.16 s on etcd (etcd3 gives a channel still connecting 1 s to close, and retries a broken
 * watch stream after up to 1 s), on a loaded 2-core machine.
 */
const EXIT_BOUND_MS = { redis: 500, etcd: 1_500 };
/** Room for a busy machine: by then the process only waits on timers. */
const ROOM_MS = 1_000;
/** A process still alive this long after is reported as never exiting (and killed). */
const GIVE_UP_MS = 20_000;

/** How the server fails a running app (reached through a fault proxy but when `killed`), 2 s before it closes. */
const FAULTS = {
  killed: 'is killed (connections reset, new ones refused)',
  'killed behind a proxy': 'is killed behind a proxy (new connections accepted, then closed at once)',
  silent: 'goes silent, like a cable pulled out (open and new connections get no answer)',
  'silent at close': 'goes silent just as the app closes (QUIT, revokes and releases get no answer)',
  'accepting-silent': 'resets every connection, then accepts new ones and never answers (a TLS client waits in its handshake)',
} as const;
const OUTAGE_MS = 2_000;
/** How a server fails a bootstrap. */
const BOOTSTRAP_FAULTS = {
  refused: 'refused the connection',
  'accepting-silent': 'accepted the connection and never answered',
} as const;

/**
 * In the calling spec file (one per driver and TLS or not: each file has 120 s): child processes whose
 * server fails them in every way, after `app.close()` and at bootstrap, each of which must exit on its own.
 */
export function describeProcessExit(driver: 'redis' | 'etcd', tls: boolean): void {
  describe(`${driver}${tls ? ' over TLS' : ''}: the process exits on its own`, () => {
    let certs: TestCerts | undefined;
    let server: TestServer;
    before(async () => {
      certs = tls ? makeTestCerts() : undefined;
      server = await startServer(driver, certs);
    });
    after(async () => {
      await server?.stop();
      certs?.remove();
    });

    const config = (addr: string): LockerConfig => {
      const connection: Record<string, unknown> = {};
      if (driver === 'redis') connection.addr = addr;
      else connection.endpoints = [addr];
      if (certs) connection.tls = certs.clientTable;
      return { [driver]: connection, locker: { driver, driver_instance_id: driver } };
    };

    for (const [fault, what] of Object.entries(FAULTS)) {
      it(`after app.close(), when the server ${what} under a held key and a waiter`, async (t) => {
        const proxy = await FaultProxy.start(server.port);
        try {
          const addr = fault === 'killed' ? server.addr : proxy.addr;
          const outageMs = fault === 'silent at close' ? 0 : OUTAGE_MS;
          const run = await runChild(['close', JSON.stringify(config(addr)), String(outageMs)], async () => {
            if (fault.startsWith('killed')) return server.kill();
            proxy.set({ kind: 'cut' });
            if (fault === 'accepting-silent') proxy.resetAll();
          });
          assert.match(run.out, /waiter ended with \w*Error/, 'the waiter was answered with an error');
          assertExitedSoon(t, run, 'closed', EXIT_BOUND_MS[driver]);
        } finally {
          await proxy.close();
          if (fault.startsWith('killed')) await server.start();
        }
      });
    }

    for (const [fault, what] of Object.entries(BOOTSTRAP_FAULTS)) {
      it(`after a bootstrap that failed because the server ${what}`, async (t) => {
        const proxy = fault === 'accepting-silent' ? await FaultProxy.start(server.port) : undefined;
        proxy?.set({ kind: 'cut' });
        try {
          const addr = proxy?.addr ?? `127.0.0.1:${await freePort()}`;
          const run = await runChild(['bootstrap', JSON.stringify(config(addr))]);
          assert.match(run.out, /failed \d+ LockerConfigError/, 'bootstrap failed with a LockerConfigError');
          assertExitedSoon(t, run, 'failed', EXIT_BOUND_MS[driver]);
        } finally {
          await proxy?.close();
        }
      });
    }
  });
}

function startServer(driver: 'redis' | 'etcd', certs?: TestCerts): Promise<TestServer> {
  const tls = certs?.mutualServer;
  return driver === 'redis' ? startRedis({ tls }) : startEtcd(tls);
}

interface ChildRun {
  out: string;
  /** When it exited, epoch ms; Infinity if it had not after GIVE_UP_MS (it was then killed). */
  exitedAt: number;
}

/** Runs test/src/server-away-exit with `args`; when it prints "queued", `fail` runs and a line goes to its stdin. */
async function runChild(args: string[], fail?: () => Promise<void>): Promise<ChildRun> {
  const child = spawn(process.execPath, [join(__dirname, '..', 'src', 'server-away-exit.js'), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (fail && out.includes('queued\n')) {
      const failing = fail;
      fail = undefined;
      void failing().then(() => child.stdin.end('go\n'));
    }
  });
  // 'close': the process has exited and all it printed has been read
  const exited = once(child, 'close').then(() => Date.now());
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(Infinity), GIVE_UP_MS)));
  const exitedAt = await Promise.race([exited, givenUp]);
  clearTimeout(timer);
  killChild();
  process.off('exit', killChild);
  return { out, exitedAt };
}

/** The child printed "<event> <epoch ms>" and exited within `boundMs` (plus room) of it. */
function assertExitedSoon(t: TestContext, { out, exitedAt }: ChildRun, event: 'closed' | 'failed', boundMs: number): void {
  const at = Number(new RegExp(`${event} (\\d+)`).exec(out)?.[1]);
  assert.ok(at > 0, `no "${event}" (output: ${JSON.stringify(out)})`);
  const exitMs = exitedAt - at;
  t.diagnostic(`exited ${exitMs} ms after ${event === 'closed' ? 'app.close() returned' : 'bootstrap failed'}`);
  const alive = /alive: (.*)/.exec(out)?.[1];
  if (alive) t.diagnostic(`still alive a while after: ${alive}`);
  assert.ok(
    exitMs < boundMs + ROOM_MS,
    `the process ${exitMs === Infinity ? `was still alive ${GIVE_UP_MS} ms` : `exited ${exitMs} ms`} after ${event === 'closed' ? 'app.close() returned' : 'bootstrap failed'}${alive ? `; alive: ${alive}` : ''}`,
  );
}
