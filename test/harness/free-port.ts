import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

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
 * A loopback port nobody listens on right now, below the range the kernel takes outgoing connections' ports
 * from (so only another test server can take it before ours binds: a 1 in ~12,000 chance), and never a
 * well-known default.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (!RESERVED.has(port) && (await listensOn(port))) return port;
  }
  throw new Error(`no free loopback port between ${LOWEST} and ${HIGHEST} after 100 tries`);
}
