import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Ports no test server may take: the defaults of a redis, sentinel or etcd someone may run on the machine. */
const RESERVED = new Set([2379, 2380, 6379, 6380, 16379, 26379]);
const LOWEST = 10_000;

/**
 * Where the kernel picks the source ports of outgoing connections (Linux: net.ipv4.ip_local_port_range,
 * 32768 by default). A port from there (what `listen(0)` hands out) can be taken by any connection of a busy
 * suite between our check and the server's bind ("address already in use"); ports below it cannot.
 */
function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > LOWEST + 12_000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}
/** Redis Cluster nodes also listen on port + 10000 (the cluster bus): that one must be below the range too. */
const HIGHEST = ephemeralStart() - 10_000;

const listensOn = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * Ports handed out to test processes on this machine, one file per port naming the process: a server
 * restarted on its port (killed, then started again seconds later) keeps it, since no other spec's
 * freePort takes a port while the process it went to lives, even while nothing listens there.
 */
const CLAIMS = join(tmpdir(), 'nest-locker-test-ports');
const claimed: string[] = [];
process.once('exit', () => claimed.forEach((file) => unlinkQuietly(file)));

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The pid a claim names; undefined while it is being written (or was just removed). */
function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Claims `port` for this process; false when a live process has it (a dead one's claim is taken over). */
export function claimPort(port: number): boolean {
  mkdirSync(CLAIMS, { recursive: true });
  const file = join(CLAIMS, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      claimed.push(file);
      return true;
    } catch {
      const owner = ownerOf(file);
      if (owner === undefined || isAlive(owner)) return false; // undefined: being written, or gone this instant
      unlinkQuietly(file); // a claim left by a process that died
    }
  }
  return false;
}

/**
 * A loopback port nobody listens on right now and no other live test process was given, below the range the
 * kernel takes outgoing connections' ports from (so no connection takes it before ours binds), and never a
 * well-known default.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (!RESERVED.has(port) && (await listensOn(port)) && claimPort(port)) return port;
  }
  throw new Error(`no free loopback port between ${LOWEST} and ${HIGHEST} after 100 tries`);
}
