import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisKeyNames } from '../lib/drivers/redis/redis-key-names';
import { ScriptedRedis, withLockerScripts } from '../lib/drivers/redis/redis-scripted-client';
import { redisCommand, waitUntil } from './harness/redis-command';
import { startRedis, TestServer } from './harness/servers';

/**
 * A replica promoted while its master goes on taking locks (the window of a planned Sentinel failover, or
 * of an operator's REPLICAOF NO ONE, or a managed Redis failing over behind one endpoint) has the fence as it was
 * at the promotion. Tokens are timed: the promoted server still mints one above every token its former master
 * gave since.
 */
describe('redis: the fence a promoted replica mints from', () => {
  let master: TestServer;
  let replica: TestServer;
  const clients: Redis[] = [];
  const names = redisKeyNames('nest-locker:', 'promoted-fence');

  const scripted = (server: TestServer): ScriptedRedis => {
    const client = new Redis({ port: server.port, host: '127.0.0.1', commandTimeout: 5_000 });
    clients.push(client);
    return withLockerScripts(client, 'PUBLISH');
  };
  /** One uncontended take and release; its token (a seed is reported negated: see TAKE_SCRIPT). */
  const cycle = async (client: ScriptedRedis, owner: string): Promise<number> => {
    const token = await client.lockerTake(names.lock, names.fence, owner, 60_000);
    assert.notEqual(token, 0, 'the key was free');
    assert.equal(await client.lockerReleaseLean(names.lock, names.queue, owner), 1);
    return Math.abs(token);
  };

  before(async () => {
    [master, replica] = await Promise.all([startRedis(), startRedis()]);
    await redisCommand(replica.port, 'REPLICAOF', '127.0.0.1', master.port);
    await waitUntil('the replica is in sync', async () =>
      /master_link_status:up/.test(String(await redisCommand(replica.port, 'INFO', 'replication'))),
    );
  });

  after(async () => {
    clients.forEach((client) => client.disconnect());
    await Promise.all([master?.stop(), replica?.stop()]);
  });

  it('a token above every token the former master gave after the promotion', async () => {
    const onMaster = scripted(master);
    for (let i = 0; i < 3; i++) await cycle(onMaster, `before-${i}`);
    assert.equal(await redisCommand(master.port, 'WAIT', 1, 5_000), 1, 'the replica has every take so far');
    await redisCommand(replica.port, 'REPLICAOF', 'NO', 'ONE');
    let formerMasters = 0;
    for (let i = 0; i < 50; i++) formerMasters = await cycle(onMaster, `after-${i}`);
    const promoted = await cycle(scripted(replica), 'promoted');
    assert.ok(promoted > formerMasters, `the promoted server's token ${promoted} is above the former master's last, ${formerMasters}`);
  });
});
