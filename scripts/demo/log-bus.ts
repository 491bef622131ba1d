import { performance } from 'node:perf_hooks';

/** One line an instance printed, with when the demo saw it. */
export interface LogLine {
  /** ms since the demo started (performance.now()). */
  at: number;
  instance: string;
  text: string;
}

/** Nest's bootstrap chatter, hidden from the stream (it is kept for the checks). */
const CHATTER = /\[(InstanceLoader|RoutesResolver|RouterExplorer|NestFactory|NestApplication)\]/;

/** A step that did not happen in time, or an instance that died unasked: the demo stops with this message. */
export class DemoFailure extends Error {}

/** Every line of every instance, streamed with a time and the instance name, and waited on by the steps. */
export class LogBus {
  readonly lines: LogLine[] = [];
  private readonly waiters = new Set<(line: LogLine) => boolean>();

  add(instance: string, text: string): void {
    const line = { at: performance.now(), instance, text };
    this.lines.push(line);
    if (!CHATTER.test(text)) console.log(`${seconds(line.at).padStart(7)} │ ${compact(instance, text)}`);
    for (const waiter of [...this.waiters]) if (waiter(line)) this.waiters.delete(waiter);
  }

  /** The first line since `since` that passes `test`; fails the demo after `timeoutMs`. */
  waitFor(what: string, test: (line: LogLine) => boolean, since: number, timeoutMs: number): Promise<LogLine> {
    const seen = this.lines.find((line) => line.at >= since && test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (line: LogLine): boolean => {
        if (!test(line)) return false;
        clearTimeout(timer);
        resolve(line);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new DemoFailure(`${what} did not happen within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

/** `12.34s`, from a performance.now() reading. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** `[node-a] 4242  - 11/20/2025, 8:55:01 PM     LOG [Ctx] msg` → `[node-a]    LOG [Ctx] msg` (pid and date dropped). */
function compact(instance: string, text: string): string {
  const match = /^\[[^\]]+\] \d+\s+- .*?\s+(LOG|WARN|ERROR|DEBUG|VERBOSE|FATAL) (.*)$/.exec(text);
  return match ? `[${instance}] ${match[1].padStart(5)} ${match[2]}` : `[${instance}] ${text}`;
}
