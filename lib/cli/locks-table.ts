import type { LockInfo } from '../interfaces/lock-info.interface';

/** LockInfo as JSON: the fencing token as a string (JSON has no bigint). */
export const lockInfoJson = (info: LockInfo): Record<string, unknown> => ({ ...info, fencingToken: info.fencingToken.toString() });

/** The locks as an aligned text table: key, holder host and pid, fencing token, TTL left, waiters. */
export function locksTable(locks: LockInfo[]): string {
  const header = ['KEY', 'HOST', 'PID', 'TOKEN', 'TTL LEFT', 'WAITING'];
  const rows = locks.map((lock) => [
    lock.key,
    lock.holder.host || '?',
    lock.holder.pid ? String(lock.holder.pid) : '?',
    lock.fencingToken.toString(),
    `${(lock.ttlLeftMs / 1000).toFixed(1)}s`,
    lock.waiting === undefined ? '-' : String(lock.waiting),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
