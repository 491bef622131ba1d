import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { useEtcdApp } from './helpers/etcd-app';
import { abortReason, eventually } from './helpers/wait';

const COMMAND_TIMEOUT = 300;
const TTL = 6_000;

/**
 * Every lock of one TTL in a process shares one etcd lease. A delete that etcd does not confirm (here a
 * waiter giving up while its connection is cut) is sent again; it must not retire the shared lease and so
 * lose every other lock on it.
 */
describe('etcd: a delete that fails once', () => {
  const env = useEtcdApp({ proxied: true, connection: { command_timeout: COMMAND_TIMEOUT } });

  it('keeps the other locks on the shared lease, and the entry is deleted once etcd answers', async () => {
    const driver = env.app.driver('etcd');
    const holder = await env.app.service.acquire('failed-delete', { ttl: TTL });
    const bystander = await env.app.service.acquire('failed-delete-bystander', { ttl: TTL });
    const giveUp = new AbortController();
    const waiting = env.app.service.acquire('failed-delete', { ttl: TTL, signal: giveUp.signal }).catch((error: unknown) => error);
    const queued = await eventually(
      () => env.etcd.state('failed-delete', driver),
      (state) => state.entries === 2,
    );
    assert.equal(queued.entries, 2, "the waiter's entry is queued behind the holder");

    const hit = env.proxy.faultNextRequest('cut');
    giveUp.abort(new Error('gave up'));
    await waiting;
    await hit;
    // the waiter's delete runs out of its deadline while cut; the old driver then retired the shared lease
    await abortReason(bystander.signal, COMMAND_TIMEOUT * 3).catch(() => undefined);
    env.proxy.set({ kind: 'pass' });

    assert.equal(holder.held, true, 'the holder keeps its lock');
    assert.equal(bystander.held, true, 'a lock of another key on the same lease is kept');
    const left = await eventually(
      () => env.etcd.state('failed-delete', driver),
      (state) => state.entries === 1,
      10_000,
    );
    assert.equal(left.entries, 1, "the waiter's entry is deleted once etcd answers; the holder's stays");
    assert.equal(holder.held && bystander.held, true);
    await holder.release();
    await bystander.release();
  });
});
