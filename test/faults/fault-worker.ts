/**
 * One node of a fault run, in its own OS process: takes the lock again and again, and under it writes to the
 * protected resource (kept by the controller) several times, reading `lock.held` before each write. It
 * reports every acquisition, `held` reading, release and loss to the controller, timed by the system clock.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Lock, LockerModule, LockerService, LockLostError } from 'nest-locker';
import { openBrokenLock, openBrokenSemaphore, TakenLock } from './broken-lock';
import type { HistoryEvent } from './history';
import { sleep, systemNow } from '../helpers/wait';
import { ControllerMessage, FaultWorkerArgs, WorkerMessage } from './protocol';

const args = JSON.parse(process.argv[2]) as FaultWorkerArgs;
const send = (message: WorkerMessage): void => void process.send?.(message);
const record = (event: HistoryEvent): void => send({ type: 'event', event });

let stopping = false;
let writes = 0;
const acks = new Map<number, () => void>();

process.on('message', (message: ControllerMessage) => {
  if (message.type === 'ack') acks.get(message.id)?.();
  else if (message.type === 'ping') send({ type: 'pong', id: message.id, at: systemNow() });
  else if (message.type === 'stop') stopping = true;
  else if (message.type === 'block') blockEventLoop(message.ms);
});

function blockEventLoop(ms: number): void {
  const from = systemNow();
  while (systemNow() - from < ms); // a synchronous computation that forgot to yield
  record({ kind: 'frozen', node: args.node, from, to: systemNow() });
}

/** The write reaches the resource through the controller, which times it and applies the fence. */
function write(token: string): Promise<void> {
  const id = ++writes;
  return new Promise((resolve) => {
    acks.set(id, () => {
      acks.delete(id);
      resolve();
    });
    send({ type: 'write', id, key: args.key, token });
  });
}

async function holdAndWrite(lock: TakenLock, release = () => lock.release()): Promise<void> {
  const holding = { node: args.node, key: args.key, token: lock.fencingToken.toString(), lock: args.lockKind, limit: args.limit };
  const acquiredAt = systemNow();
  record({ ...holding, kind: 'acquired', at: acquiredAt });
  const recordLoss = (at: number) => {
    if (lock.signal.reason instanceof LockLostError) record({ ...holding, kind: 'lost', at, reason: lock.signal.reason.reason });
  };
  // lost before it reached us (a broken lock may hand out one): it was lost by the time we saw it
  if (lock.signal.aborted) recordLoss(acquiredAt);
  else lock.signal.addEventListener('abort', () => recordLoss(systemNow()));
  for (let act = 0; act < args.acts; act++) {
    if (!lock.held) break;
    record({ ...holding, kind: 'held', at: systemNow() });
    await sleep(args.actMs); // work between the check and the write: where a pause makes a stale write
    await write(holding.token);
  }
  if (lock.held) record({ ...holding, kind: 'released', at: systemNow() });
  await release();
}

/** The lock of the run's kind, as an app takes it. */
function acquire(locker: LockerService): Promise<Lock> {
  const options = { ttl: args.ttl, waitTime: 10_000 };
  if (args.lockKind === 'leader') return locker.election(args.key, { ttl: args.ttl }).campaign({ waitTime: options.waitTime });
  if (args.lockKind === 'permit') return locker.acquirePermit(args.key, { ...options, limit: args.limit as number });
  if (args.lockKind === 'read') return locker.acquireRead(args.key, options);
  if (args.lockKind === 'write') return locker.acquireWrite(args.key, options);
  return locker.acquire(args.key, options);
}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(LockerModule.forRoot(args.config), { logger: false });
  const locker = app.get(LockerService);
  const broken =
    args.lock !== 'broken'
      ? undefined
      : args.lockKind === 'permit'
        ? await openBrokenSemaphore(args.redisAddr as string, args.node, args.limit as number)
        : await openBrokenLock(args.redisAddr as string, args.node);
  send({ type: 'ready' });
  while (!stopping) {
    try {
      const lock = broken ? await broken.acquire(args.key, args.ttl) : await acquire(locker);
      // a leader resigns: the release of its leadership lock, as the election does it
      await holdAndWrite(lock, args.lockKind === 'leader' ? () => locker.election(args.key).resign() : undefined);
    } catch (error) {
      if (process.env.FAULT_DEBUG) process.stderr.write(`${args.node} ${systemNow()}: ${String(error)}\n`);
      await sleep(50); // the server is away or the wait timed out: try again, as an app would
    }
    await sleep(Math.random() * 5);
  }
  await broken?.close();
  await app.close();
  send({ type: 'stopped' });
  process.disconnect();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
