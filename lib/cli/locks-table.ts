import type { LockHolding, LockInfo } from '../interfaces/lock-info.interface';

/** LockInfo as JSON: fencing tokens as strings (JSON has no bigint), the holders' too. */
export const lockInfoJson = (info: LockInfo): Record<string, unknown> => ({
  ...info,
  fencingToken: info.fencingToken.toString(),
  ...(info.holders && { holders: info.holders.map((holding) => ({ ...holding, fencingToken: holding.fencingToken.toString() })) }),
});

/**
 * The locks as an aligned text table: key, kind, holder host and pid, fencing token, TTL left, waiters, and
 * (when a leader proclaimed one) the value. A key with several holders (permits, readers) has a row per
 * holder, its waiters on the first.
 */
export function locksTable(locks: LockInfo[]): string {
  const values = locks.some((lock) => lock.value !== undefined);
  const header = ['KEY', 'KIND', 'HOST', 'PID', 'TOKEN', 'TTL LEFT', 'WAITING', ...(values ? ['VALUE'] : [])];
  const row = (lock: LockInfo, holding: LockHolding, first: boolean) => [
    lock.key,
    holding.kind,
    holding.holder.host || '?',
    holding.holder.pid ? String(holding.holder.pid) : '?',
    holding.fencingToken.toString(),
    `${(holding.ttlLeftMs / 1000).toFixed(1)}s`,
    !first || lock.waiting === undefined ? '-' : String(lock.waiting),
    ...(values ? [lock.value === undefined ? '-' : JSON.stringify(lock.value)] : []),
  ];
  const rows = locks.flatMap((lock) => (lock.holders ?? [lock]).map((holding, index) => row(lock, holding, index === 0)));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
