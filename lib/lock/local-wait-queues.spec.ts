import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LockWaitTimeoutError } from '../errors';
import { LocalWaitQueues } from './local-wait-queues';
import { WaitScope } from './wait-scope';

const request = (waitTime: number, signal?: AbortSignal) =>
  ({
    key: 'k',
    section: 'locker',
    keyPrefix: '',
    kind: 'lock',
    ttl: 1000,
    keepAlive: true,
    fair: false,
    wait: true,
    waitTime,
    signal,
  }) as const;

describe('LocalWaitQueues', () => {
  // A watch or subscription whose server is gone may never confirm.
  const neverReady = () => new LocalWaitQueues(() => ({ ready: new Promise(() => undefined), close: () => undefined }));

  it('a waiter whose wake-up source never becomes ready still gives up at its wait time', async () => {
    const queues = neverReady();
    const waiting = queues.take('k', new WaitScope(request(100)), async (turn) => {
      for (;;) await turn.sleep(10_000); // the server keeps saying busy
    });
    await assert.rejects(waiting, LockWaitTimeoutError);
  });

  it('... and when its caller aborts, and the next local waiter gets its turn', async () => {
    const queues = neverReady();
    const controller = new AbortController();
    const first = queues.take('k', new WaitScope(request(60_000, controller.signal)), async (turn) => {
      for (;;) await turn.sleep(10_000);
    });
    const second = queues.take('k', new WaitScope(request(60_000)), async () => 'second had its turn');
    controller.abort(new Error('caller gave up'));
    await assert.rejects(first, /caller gave up/);
    assert.equal(await second, 'second had its turn');
  });

  /** Counts the key's wake-up sources opened and closed. */
  const counted = () => {
    const sources = { opened: 0, closed: 0 };
    const queues = new LocalWaitQueues(() => {
      sources.opened++;
      return { ready: Promise.resolve(), close: () => sources.closed++ };
    });
    return { queues, sources };
  };
  /** Waits once (opening the key's wake-up source), then ends as `end` says. */
  const waitOnce = (queues: LocalWaitQueues, end: () => string) =>
    queues.take('k', new WaitScope(request(60_000)), async (turn) => {
      await turn.sleep(10_000);
      return end();
    });

  it('a wait that ends without the lock closes the wake-up source at once: nothing of it is left', async () => {
    const { queues, sources } = counted();
    await assert.rejects(
      waitOnce(queues, () => {
        throw new Error('server error');
      }),
      /server error/,
    );
    assert.deepEqual(sources, { opened: 1, closed: 1 });
  });

  it('a wait that got the lock keeps the wake-up source for the next wait on the key, and closes it with the driver', async () => {
    const { queues, sources } = counted();
    assert.equal(await waitOnce(queues, () => 'held'), 'held');
    assert.equal(await waitOnce(queues, () => 'held again'), 'held again');
    assert.deepEqual(sources, { opened: 1, closed: 0 }, "the second wait reused the first one's source");
    queues.closeLingering();
    assert.deepEqual(sources, { opened: 1, closed: 1 });
  });
});
