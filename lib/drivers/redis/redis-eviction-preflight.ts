import type { LoggerService } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { settleWithin } from '../../utils/settle-within';

/**
 * Warns when a server may evict keys under memory pressure: a lock key carries a TTL, so `volatile-*`
 * and `allkeys-*` policies can drop a held lock and let a second holder in. Managed servers and ACL users
 * often may not run INFO or CONFIG: then nothing is known, and nothing is said.
 */
export async function warnIfEvictable(client: Redis | Cluster, section: string, timeoutMs: number, logger: LoggerService): Promise<void> {
  const servers = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const policies = await Promise.all(servers.map((server) => evictionPolicy(server, timeoutMs)));
  for (const policy of new Set(policies)) {
    if (policy === undefined || policy === 'noeviction') continue;
    logger.warn(
      `[${section}] the redis server's maxmemory-policy is "${policy}": when memory runs short it can evict a held lock ` +
        `(lock keys carry a TTL), and another holder gets it while the first still runs; set maxmemory-policy to "noeviction"`,
    );
  }
}

/** `maxmemory-policy` from INFO (allowed on most managed servers), else CONFIG GET; undefined where both are refused. */
async function evictionPolicy(server: Redis, timeoutMs: number): Promise<string | undefined> {
  let policy: string | undefined;
  const fromInfo = server.info('memory').then((info) => (policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1]));
  await settleWithin(fromInfo, timeoutMs);
  if (policy !== undefined) return policy;
  const fromConfig = server.config('GET', 'maxmemory-policy').then((reply) => (policy = reply[1]));
  await settleWithin(fromConfig, timeoutMs);
  return policy;
}
