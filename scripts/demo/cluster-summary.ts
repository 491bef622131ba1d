import type { LogLine } from './log-bus';

const REPORT = /report #\d+ built by (\S+) \(fencing token (\d+)\)/;
const CLEANUP = /cleanup tick (\d\d:\d\d:\d\d) ran on (\S+)/;
/** The library's log lines for a lock lost while held (LockedLoop's warning, HeldLock's LockLostError). */
const LOST = /lost lock "|was lost \(/;

/** `report #N built by X (fencing token T)`: who built it and under which token. */
export function reportOf(line: LogLine): { by: string; token: bigint } | undefined {
  const match = REPORT.exec(line.text);
  return match ? { by: match[1], token: BigInt(match[2]) } : undefined;
}

/**
 * Per instance: how many reports and cleanup ticks it ran and how many lock losses it logged; and the
 * cleanup ticks that ran more than once.
 */
export function summarize(lines: LogLine[], instances: string[]) {
  const reports = new Map(instances.map((name) => [name, 0]));
  const cleanups = new Map(instances.map((name) => [name, 0]));
  const losses = new Map<string, number>();
  const ticks = new Map<string, string[]>();
  const tokens: bigint[] = [];
  for (const line of lines) {
    const report = reportOf(line);
    if (report) {
      reports.set(report.by, (reports.get(report.by) ?? 0) + 1);
      tokens.push(report.token);
    }
    if (LOST.test(line.text)) losses.set(line.instance, (losses.get(line.instance) ?? 0) + 1);
    const cleanup = CLEANUP.exec(line.text);
    if (cleanup) {
      cleanups.set(cleanup[2], (cleanups.get(cleanup[2]) ?? 0) + 1);
      ticks.set(cleanup[1], [...(ticks.get(cleanup[1]) ?? []), cleanup[2]]);
    }
  }
  const twice = [...ticks].filter(([, ran]) => ran.length > 1).map(([tick, ran]) => `${tick} on ${ran.join(' and ')}`);
  const seen = [...ticks.keys()].map(secondOfDay).sort((a, b) => a - b);
  const skipped = seen.length < 2 ? 0 : (seen[seen.length - 1] - seen[0]) / 2 + 1 - seen.length;
  const tokensIncrease = tokens.every((token, index) => index === 0 || token >= tokens[index - 1]);
  return { reports, cleanups, losses, ticks: ticks.size, skipped, twice, tokensIncrease };
}

function secondOfDay(time: string): number {
  const [hours, minutes, secs] = time.split(':').map(Number);
  return hours * 3600 + minutes * 60 + secs;
}
