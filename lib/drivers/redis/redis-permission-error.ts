import type { Cluster, Redis } from 'ioredis';
import { LockerConfigError } from '../../errors';
import { lockerScriptLua } from './redis-scripted-client';

/** What a redis server refused our ACL user: commands (a script line may call two), keys, or pub/sub channels. */
export type RedisRefusal = { kind: 'command'; commands: string[] } | { kind: 'key' } | { kind: 'channel' };

/**
 * Reads an ACL refusal from a redis error message, in the words of each server version: a command sent
 * directly (`NOPERM ... run the 'del' command`, `NOPERM ... access one of the keys`), or a call inside a
 * script, which Redis 7.2 names (`ACL failure in script: ... run the 'del' command`) but 6.x and 7.0 do not
 * (`The user executing the script can't run this command or subcommand script: <sha>, on @user_script:<line>`):
 * then the command is read from that line of the script's source (`luaOf(sha)`). Undefined for other errors.
 */
export function parseRedisRefusal(message: string, luaOf: (sha: string) => string | undefined = () => undefined): RedisRefusal | undefined {
  const inScript = /ACL failure in script|user executing the script can't/i.test(message);
  if (!inScript && !/^NOPERM\b/.test(message)) return undefined;
  const named = /run the '([^']+)' command/.exec(message)?.[1];
  if (named) return { kind: 'command', commands: [named.toLowerCase()] };
  // keys first: a 7.2 message names the key, which may hold any word
  if (/the '.*' key\b|of the keys\b|a key\b/i.test(message)) return { kind: 'key' };
  if (/the '.*' channel\b|of the channels\b|a channel\b|to the channel\b/i.test(message)) return { kind: 'channel' };
  return { kind: 'command', commands: inScript ? commandsOnScriptLine(message, luaOf) : [] };
}

/** The commands called on the script line that the error points at (`@user_script:<line>`), if the script is known. */
function commandsOnScriptLine(message: string, luaOf: (sha: string) => string | undefined): string[] {
  const sha = /(?:script: |f_)([0-9a-f]{40})/.exec(message)?.[1];
  const line = Number(/@user_script:\s*(\d+)/.exec(message)?.[1]);
  const lua = sha && line ? luaOf(sha) : undefined;
  const text = lua?.split('\n')[line - 1] ?? '';
  const calls = [...text.matchAll(/(?:redis|server)\.p?call\(\s*['"]([A-Za-z|]+)['"]/g)].map((call) => call[1].toLowerCase());
  return [...new Set(calls)];
}

/** What ioredis keeps of each script defined with `defineCommand` (internal: `scriptsSet`). */
interface DefinedScripts {
  scriptsSet?: Record<string, { sha: string; lua: string }>;
}

/**
 * Turns the server's ACL refusals into a LockerConfigError that names what the user lacks and the rule to
 * add, one per driver instance. `owned`: the section opened the client (`username`/`auth`), else it is the
 * app's (`client`).
 */
export class RedisRefusals {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly section: string,
    private readonly owned: boolean,
  ) {}

  /**
   * The refusal `error` reports, if it is one; a script's line is looked up among the lock scripts (sent as
   * plain EVALSHA) and those defined on the client (an election's).
   */
  refusal(error: unknown): RedisRefusal | undefined {
    if (!(error instanceof Error)) return undefined;
    const scripts = (this.client as DefinedScripts).scriptsSet ?? {};
    return parseRedisRefusal(
      error.message,
      (sha) => lockerScriptLua(sha) ?? Object.values(scripts).find((script) => script.sha === sha)?.lua,
    );
  }

  /**
   * `error` as a LockerConfigError when it is a refusal, else `error` itself: for the calls that lock, so a
   * missing permission reaches the caller named. `lockName` (the lock's name on the server) gives the key prefix.
   */
  explain(error: unknown, lockName?: string): unknown {
    const refusal = this.refusal(error);
    return refusal ? this.configError(refusal, error, lockName && lockName.slice(0, lockName.lastIndexOf('{'))) : error;
  }

  /** A sentinel refused what the driver asks it every second (see SentinelView): no lock write could count. */
  sentinelConfigError(refusal: string): LockerConfigError {
    return new LockerConfigError({
      section: this.section,
      field: this.owned ? 'sentinel_username' : 'client',
      message:
        `the sentinels refused SENTINEL MASTER or SENTINEL REPLICAS (${refusal}), which the driver asks every second to ` +
        'know which replicas could take over: without them no lock write counts; add +sentinel|master +sentinel|replicas ' +
        "to the sentinel user's ACL rules (docs/production.md)",
    });
  }

  /** The error for `refusal`; `consequence` says what it costs when it is only a warning. */
  configError(refusal: RedisRefusal, cause: unknown, keyPrefix = '<key_prefix>', consequence = 'which its locks need'): LockerConfigError {
    const user = this.ownUsername() ?? 'default';
    const [lacks, rules, which] = missing(refusal, keyPrefix);
    return new LockerConfigError({
      section: this.section,
      field: this.owned ? (this.ownUsername() ? 'username' : 'auth') : 'client',
      message:
        `the redis user "${user}" ${lacks}, ${consequence}; add ${which}${rules} to its ACL rules (ACL SETUSER ${user} ${rules}); ` +
        `docs/production.md lists every rule (redis said: ${cause instanceof Error ? cause.message : String(cause)})`,
      cause,
    });
  }

  private ownUsername(): string | undefined {
    const options = this.client.isCluster ? (this.client as Cluster).options.redisOptions : (this.client as Redis).options;
    return options?.username || undefined;
  }
}

/** What the user may not do, the ACL rules that allow it, and "the one it lacks of " when there are several. */
function missing(refusal: RedisRefusal, keyPrefix: string): [string, string, string] {
  if (refusal.kind === 'key') return [`may not use the keys under key_prefix "${keyPrefix}"`, `~${keyPrefix}*`, ''];
  if (refusal.kind === 'channel') return [`may not use the pub/sub channels under key_prefix "${keyPrefix}"`, `&${keyPrefix}*`, ''];
  const { commands } = refusal;
  if (commands.length === 0) return ['may not run a command of the lock scripts', '+<the missing command>', ''];
  const rules = commands.map((command) => `+${command}`).join(' ');
  const names = commands.map((command) => command.toUpperCase());
  if (names.length === 1) return [`may not run ${names[0]}`, rules, ''];
  return [`may not run one of ${names.join(', ')} (one line of a lock script calls them)`, rules, 'the one it lacks of '];
}
