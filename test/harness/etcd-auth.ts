import { Etcd3, Range } from 'etcd3';
import { DriverFixture, etcdFixtureOn } from '../conformance/driver-fixtures';
import { startEtcd } from './servers';

export const ETCD_USER = 'nest-locker';
export const ETCD_PASSWORD = 'test-password';

/**
 * On a private etcd, what the README's etcdctl lines do (etcdctl is not always installed; the etcd3 client
 * speaks the same API): a root user, a role that may read and write `prefix` only, a user with that role,
 * and auth switched on.
 */
export async function enableEtcdAuth(addr: string, prefix = 'nest-locker/'): Promise<void> {
  const admin = new Etcd3({ hosts: `http://${addr}` });
  try {
    const root = await admin.user('root').create(ETCD_PASSWORD);
    await root.addRole('root');
    const role = await admin.role(ETCD_USER).create();
    await role.grant({ permission: 'Readwrite', range: Range.prefix(prefix) });
    await (await admin.user(ETCD_USER).create(ETCD_PASSWORD)).addRole(role);
    await admin.auth.authEnable();
  } finally {
    admin.close();
  }
}

/** The conformance fixture on an etcd with auth enabled, the driver logged in as the prefix-only user. */
export async function etcdAuthFixture(): Promise<DriverFixture> {
  const server = await startEtcd();
  try {
    await enableEtcdAuth(server.addr);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return etcdFixtureOn(server, [server.addr], () => server.stop(), {
    connection: { username: ETCD_USER, password: ETCD_PASSWORD },
    inspector: { auth: { username: 'root', password: ETCD_PASSWORD } },
  });
}
