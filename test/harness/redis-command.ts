import type { ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import { eventually } from '../helpers/wait';

/** How the harness reaches one of its servers: a port, or a port with a password and/or TLS. */
export type HarnessServer = number | { port: number; password?: string; tls?: ConnectionOptions };

/** One command on a fresh connection to 127.0.0.1:port (no retries), for harness checks. */
export async function redisCommand(server: HarnessServer, command: string, ...args: (string | number)[]): Promise<unknown> {
  const { port, password, tls } = typeof server === 'number' ? { port: server } : server;
  const connection = new Redis({
    host: '127.0.0.1',
    port,
    password,
    tls,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  connection.on('error', () => undefined);
  try {
    await connection.connect();
    return await connection.call(command, ...args);
  } finally {
    connection.disconnect();
  }
}

/** Polls `check` until it is true; throws with `what` if that has not happened within `withinMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, withinMs = 20_000): Promise<void> {
  const ok = await eventually(() => check().catch(() => false), Boolean, withinMs);
  if (!ok) throw new Error(`${what}: not within ${withinMs} ms`);
}
