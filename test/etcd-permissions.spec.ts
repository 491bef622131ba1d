import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { Logger } from '@nestjs/common';
import { Etcd3, IPermissionRequest, Range } from 'etcd3';
import type { LockerConfig } from 'nest-locker';
import { configErrorOf } from './bad-input/outcome-table';
import { ETCD_PASSWORD } from './harness/etcd-auth';
import { startEtcd, TestServer } from './harness/servers';
import { refusedAtBootstrap } from './helpers/bootstrap-checks';
import { startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

const PREFIX = 'nest-locker/';
const readwrite: IPermissionRequest = { permission: 'Readwrite', range: Range.prefix(PREFIX) };

/** Users, each with a role of its own name that grants these (none: a user without a role). */
const USERS: Record<string, IPermissionRequest[]> = {
  readwrite: [readwrite],
  changing: [readwrite],
  'read-only': [{ permission: 'Read', range: Range.prefix(PREFIX) }],
  'write-only': [{ permission: 'Write', range: Range.prefix(PREFIX) }],
  'other-prefix': [{ permission: 'Readwrite', range: Range.prefix('app/') }],
  'no-role': [],
};

/** Which access bootstrap names as missing, for each user that lacks one. */
const MISSING: Record<string, 'read' | 'write'> = { 'read-only': 'write', 'write-only': 'read', 'other-prefix': 'read', 'no-role': 'read' };

/**
 * Bootstrap checks, on an etcd with auth, that the user's role may read and write the key prefix: a role
 * without one fails bootstrap with a LockerConfigError naming the access and the prefix to grant (etcd has no
 * lease permissions of its own: any user may grant, keep alive and revoke a lease of its own keys). Nothing
 * of the check stays. A permission taken away after bootstrap is named the same way at first use.
 */
describe('etcd permissions: checked at bootstrap, named at first use', () => {
  let server: TestServer;
  let root: Etcd3;
  const config = (user: string, lockers: LockerConfig = {}): LockerConfig => ({
    etcd: { endpoints: [server.addr], username: user, password: ETCD_PASSWORD },
    locker: { driver: 'etcd', driver_instance_id: 'etcd' },
    ...lockers,
  });
  /** Keys and leases on the server once the probe's revokes have landed (no app holds anything between tests). */
  const leftOnServer = () =>
    eventually(
      async () => ({ keys: await root.getAll().keys(), leases: (await root.leaseClient.leaseLeases()).leases.length }),
      (left) => left.keys.length === 0 && left.leases === 0,
    );

  before(async () => {
    server = await startEtcd();
    const admin = new Etcd3({ hosts: `http://${server.addr}` });
    try {
      await (await admin.user('root').create(ETCD_PASSWORD)).addRole('root');
      for (const [name, grants] of Object.entries(USERS)) {
        const user = await admin.user(name).create(ETCD_PASSWORD);
        if (grants.length === 0) continue;
        const role = await admin.role(name).create();
        for (const grant of grants) await role.grant(grant);
        await user.addRole(role);
      }
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
    root = new Etcd3({ hosts: `http://${server.addr}`, auth: { username: 'root', password: ETCD_PASSWORD } });
  });
  after(async () => {
    root?.close();
    await server?.stop();
  });

  it('a role with readwrite on the prefix boots without a warning, and the check leaves no key and no lease', async () => {
    const warnings: string[] = [];
    const recording = mock.method(Logger.prototype, 'warn', (message: unknown) => void warnings.push(String(message)));
    try {
      const app = await startLockerApp(config('readwrite'));
      await app.close();
    } finally {
      recording.mock.restore();
    }
    assert.deepEqual(warnings, []);
    assert.deepEqual(await leftOnServer(), { keys: [], leases: 0 });
  });

  for (const [user, access] of Object.entries(MISSING)) {
    it(`${user}: bootstrap fails with a LockerConfigError naming the ${access} it lacks on the prefix; nothing stays`, async () => {
      const error = await refusedAtBootstrap(config(user));
      assert.equal(error.section, 'etcd');
      assert.equal(error.field, 'username');
      assert.match(error.message, new RegExp(`permission to ${access} keys under key_prefix "${PREFIX}"`));
      assert.match(error.message, /etcdctl role grant-permission <role> readwrite --prefix=true nest-locker\/\)/);
      assert.ok(error.cause instanceof Error, "etcd's own error is the cause");
      assert.deepEqual(await leftOnServer(), { keys: [], leases: 0 });
    });
  }

  it("checks each locker section's key_prefix: one the role does not cover fails, naming it", async () => {
    const error = await refusedAtBootstrap(
      config('readwrite', { jobs: { driver: 'etcd', driver_instance_id: 'etcd', key_prefix: 'jobs/' } }),
    );
    assert.match(error.message, /permission to read keys under key_prefix "jobs\/"/);
  });

  it("checks an app's own client too, naming the client field", async () => {
    const client = new Etcd3({ hosts: `http://${server.addr}`, auth: { username: 'read-only', password: ETCD_PASSWORD } });
    try {
      const error = await configErrorOf(() => startLockerApp({ etcd: { client }, locker: { driver: 'etcd', driver_instance_id: 'etcd' } }));
      assert.equal(error.field, 'client');
      assert.match(error.message, /permission to write keys/);
    } finally {
      client.close();
    }
  });

  it('a permission taken away after bootstrap: tryAcquire and extend reject with a LockerConfigError naming it', async () => {
    const app = await startLockerApp(config('changing'));
    const role = root.role('changing');
    try {
      const held = await app.service.acquire('first-use');
      await role.revoke(readwrite);
      const tried = await configErrorOf(() => app.service.tryAcquire('first-use-other'));
      assert.equal(tried.field, 'username');
      assert.match(tried.message, /permission to read and write keys under key_prefix "nest-locker\/"/);
      const extended = await configErrorOf(() => held.extend());
      assert.match(extended.message, /keys under key_prefix "nest-locker\/"/);
      await role.grant(readwrite);
      await held.release();
    } finally {
      await role.grant(readwrite).catch(() => undefined);
      await app.close();
    }
  });
});
