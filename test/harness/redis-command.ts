import { Redis } from 'ioredis';
import { eventually } from '../helpers/wait';

/** One command on a fresh connection to 127.0.0.1:port (no retries), for harness checks; `{ port, password }` logs in. */
export async function redisCommand(
  server: number | { port: number; password?: string },
  command: string,
  ...args: (string | number)[]
): Promise<unknown> {
  const { port, password } = typeof server === 'number' ? { port: server, password: undefined } : server;
  const connection = new Redis({
    host: '127.0.0.1',
    port,
    password,
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
