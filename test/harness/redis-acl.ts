import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FixtureAccess } from '../conformance/driver-fixtures';
import type { RedisServerOptions } from './servers';

export const ACL_USER = 'nest-locker';
const ACL_PASSWORD = 'change-me';

/** The `~prefix* &prefix* +@all -@dangerous` baseline security teams hand out. */
export const BASELINE_RULES = ['resetkeys', 'resetchannels', '~nest-locker:*', '&nest-locker:*', '+@all', '-@dangerous'];

/**
 * The rules of the `ACL SETUSER nest-locker on >change-me ...` line in docs/production.md, so the suite runs as
 * exactly the user the docs tell operators to create (and the docs cannot drift from what works).
 */
export function documentedAclRules(): string[] {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'production.md'), 'utf8');
  const line = new RegExp(`^ACL SETUSER ${ACL_USER} on >${ACL_PASSWORD} (.+)$`, 'm').exec(doc);
  if (!line) throw new Error(`docs/production.md has no "ACL SETUSER ${ACL_USER} on >${ACL_PASSWORD} ..." line`);
  return line[1].trim().split(/\s+/);
}

/** A redis-server whose ACL user `nest-locker` has `rules` (set at start, so it survives a restart), and the fields to log in as it. */
export function aclUserAccess(rules: string[]): FixtureAccess<RedisServerOptions> {
  return {
    server: { args: ['--user', ACL_USER, 'on', `>${ACL_PASSWORD}`, ...rules] },
    connection: { username: ACL_USER, auth: ACL_PASSWORD },
  };
}

/** A user that may run anything but SPUBLISH: the driver's probe says no (as on a Redis 6 cluster) and it announces with PUBLISH. */
export const NO_SPUBLISH_USER = 'no-spublish';

/** redis-server arguments that create NO_SPUBLISH_USER (its password is ACL_USER's). */
export const NO_SPUBLISH_USER_ARGS = ['--user', NO_SPUBLISH_USER, 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all', '-spublish'];

/** The connection fields that log in as `user`. */
export const loginAs = (user: string): { username: string; auth: string } => ({ username: user, auth: ACL_PASSWORD });

/** What a cluster user needs beside the documented rules (docs/production.md adds them for a cluster). */
export const CLUSTER_RULES = ['+cluster|slots', '+cluster|info'];

/** redis-server arguments that create the documented user under `name`, with `extraRules`, less the command `less`. */
export const documentedUserArgs = (name: string, less?: string, extraRules: string[] = []): string[] => [
  '--user',
  name,
  'on',
  `>${ACL_PASSWORD}`,
  ...[...documentedAclRules(), ...extraRules].filter((rule) => rule !== `+${less}`),
];
