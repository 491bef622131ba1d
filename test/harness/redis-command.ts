import { Redis } from 'ioredis';

/** One command on a fresh connection to 127.0.0.1:port (no retries), for harness checks. */
export async function redisCommand(port: number, command: string, ...args: (string | number)[]): Promise<unknown> {
  const connection = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
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
  const started = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
