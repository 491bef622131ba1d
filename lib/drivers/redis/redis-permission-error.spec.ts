import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRedisRefusal } from './redis-permission-error';

const SHA = 'e075ed8826aa7e87dd1ed26973ece9e432d54301';
const LUA = [
  "local function announce(channel, message) return redis.call('PUBLISH', channel, message) end",
  "local now = redis.call('TIME')",
  "if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then redis.call('RPUSH', KEYS[3], ARGV[1]) end",
  'return 1',
].join('\n');
const luaOf = (sha: string) => (sha === SHA ? LUA : undefined);

/** ACL refusals in the words of Redis 6.2, 7.0 and 7.2 (from their sources), read without a server. */
describe('parseRedisRefusal', () => {
  it('reads the command a refusal names, sent directly or called in a script (6.2, 7.0, 7.2)', () => {
    for (const message of [
      "NOPERM this user has no permissions to run the 'del' command or its subcommand",
      "NOPERM this user has no permissions to run the 'del' command",
      "NOPERM User nest-locker has no permissions to run the 'del' command",
      `ERR ACL failure in script: User nest-locker has no permissions to run the 'del' command script: ${SHA}, on @user_script:9.`,
    ])
      assert.deepEqual(parseRedisRefusal(message, luaOf), { kind: 'command', commands: ['del'] }, message);
    assert.deepEqual(parseRedisRefusal("NOPERM User u has no permissions to run the 'cluster|slots' command"), {
      kind: 'command',
      commands: ['cluster|slots'],
    });
  });

  it("reads the command from the script's line where the server does not name it (6.2, 7.0)", () => {
    const at = (line: number) => [
      `ERR The user executing the script can't run this command or subcommand script: ${SHA}, on @user_script:${line}.`,
      `ERR Error running script (call to f_${SHA}): @user_script:${line}: The user executing the script can't run this command or subcommand`,
    ];
    for (const message of at(2)) assert.deepEqual(parseRedisRefusal(message, luaOf), { kind: 'command', commands: ['time'] });
    for (const message of at(1)) assert.deepEqual(parseRedisRefusal(message, luaOf), { kind: 'command', commands: ['publish'] });
    for (const message of at(3)) assert.deepEqual(parseRedisRefusal(message, luaOf), { kind: 'command', commands: ['zscore', 'rpush'] });
    // a script it does not know, or a line without a call: a refusal all the same, of an unnamed command
    assert.deepEqual(
      parseRedisRefusal(at(2)[0], () => undefined),
      { kind: 'command', commands: [] },
    );
    assert.deepEqual(parseRedisRefusal(at(4)[0], luaOf), { kind: 'command', commands: [] });
  });

  it('tells keys and channels outside the patterns from commands, whatever the key or channel is called', () => {
    for (const message of [
      'NOPERM this user has no permissions to access one of the keys used as arguments',
      'NOPERM No permissions to access a key',
      `ERR The user executing the script can't access at least one of the keys mentioned in the command script: ${SHA}, on @user_script:2.`,
      `ERR ACL failure in script: User u has no permissions to access the 'channel:{a}' key script: ${SHA}, on @user_script:2.`,
    ])
      assert.deepEqual(parseRedisRefusal(message, luaOf), { kind: 'key' }, message);
    for (const message of [
      'NOPERM this user has no permissions to access one of the channels used as arguments',
      'NOPERM No permissions to access a channel',
      `ERR The user executing the script can't publish to the channel mentioned in the command script: ${SHA}, on @user_script:1.`,
      `ERR ACL failure in script: User u has no permissions to access the 'keys:{a}:released' channel script: ${SHA}, on @user_script:1.`,
    ])
      assert.deepEqual(parseRedisRefusal(message, luaOf), { kind: 'channel' }, message);
  });

  it('is undefined for errors that are not refusals', () => {
    for (const message of [
      'Command timed out',
      'NOSCRIPT No matching script',
      'ERR unknown command',
      'WRONGPASS invalid username-password pair',
    ])
      assert.equal(parseRedisRefusal(message, luaOf), undefined, message);
  });
});
