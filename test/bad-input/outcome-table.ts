import { after } from 'node:test';
import { LockerConfigError } from 'nest-locker';

interface Row {
  input: string;
  driver: string;
  outcome: string;
}

/**
 * Collects what each row of a table did; printed after the suite when BAD_INPUT_TABLE=1, so the table
 * as run can be read (and quoted) without rerunning anything by hand.
 */
export function outcomeTable(title: string): (input: string, driver: string, outcome: string) => void {
  const rows: Row[] = [];
  after(() => {
    if (!process.env.BAD_INPUT_TABLE) return;
    const lines = rows.map((row) => `| ${row.input} | ${row.driver} | ${row.outcome.replaceAll('|', '\\|')} |`);
    process.stdout.write(`\n### ${title}\n\n| input | driver | outcome |\n| --- | --- | --- |\n${lines.join('\n')}\n`);
  });
  return (input, driver, outcome) => void rows.push({ input, driver, outcome });
}

/** The outcome column for an error: its class and message. */
export function errorOutcome(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : `threw ${String(error)}`;
}

/** Awaits `run` and returns its LockerConfigError; fails the test on success or on any other error. */
export async function configErrorOf(run: () => unknown): Promise<LockerConfigError> {
  let result: unknown;
  try {
    result = await run();
  } catch (error) {
    if (error instanceof LockerConfigError) return error;
    throw new Error(`expected a LockerConfigError, got ${errorOutcome(error)}`, { cause: error });
  }
  throw new Error(`expected a LockerConfigError, but it succeeded with ${String(result)}`);
}
