/**
 * An election's own keys and scripts on redis. Its leader holds the `leader` lock of the name with the mutex's
 * scripts (redis-scripts.ts); what the leader proclaims lives beside it, in `<lock>:value` (same hash tag, so
 * one cluster slot), as "<owner> <term>[ <value>]", and counts only while that owner holds the lock.
 */

/** Where the leader of the lock named `lock` keeps what it proclaimed. */
export const proclaimedKey = (lock: string): string => `${lock}:value`;

/** The one-word message a proclamation publishes on the lock's channel: observers look again. */
export const PROCLAIMED_MESSAGE = 'proclaimed';

/**
 * KEYS: lock, value. ARGV: owner, term, has value (1/0), value, channel. Owner-checked: writes the record
 * only while `owner` holds the lock, and announces it. Returns 1, or 0 when the lock is not the owner's.
 * No TTL: the lock's renewals do not touch the record, and a record of a former leader is ignored.
 */
export const PROCLAIM_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local record = ARGV[1] .. ' ' .. ARGV[2]
if ARGV[3] == '1' then record = record .. ' ' .. ARGV[4] end
redis.call('SET', KEYS[2], record)
announce(ARGV[5], '${PROCLAIMED_MESSAGE}')
return 1
`;

/** KEYS: lock, value. The holder's owner id, its lease left (PTTL) and the proclaimed record; nil when free. */
export const LEADER_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if not owner then return false end
return {owner, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2]) or ''}
`;

/** The term and value of `record` when `owner` wrote it; undefined for another owner's (or none). */
export function proclaimedBy(owner: string, record: string): { term: bigint; value?: string } | undefined {
  if (!record.startsWith(`${owner} `)) return undefined;
  const rest = record.slice(owner.length + 1);
  const space = rest.indexOf(' ');
  if (space < 0) return { term: BigInt(rest) };
  return { term: BigInt(rest.slice(0, space)), value: rest.slice(space + 1) };
}
