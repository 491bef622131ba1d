import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { monotonicNow } from './clock';
import { SlotTimer } from './slot-timer';

describe('SlotTimer', () => {
  it('calls each item once, in order, and not at all once cancelled', async () => {
    const due: [string, number][] = [];
    const timer = new SlotTimer<string>((item) => due.push([item, monotonicNow()]), false);
    const at = monotonicNow() + 30;
    timer.schedule('a', at);
    timer.schedule('b', at + 1);
    timer.schedule('gone', at);
    timer.cancel('gone');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(
      due.map(([item]) => item),
      ['a', 'b'],
    );
    assert.equal(timer.has('a'), false);
  });

  it('does not keep the slots of far deadlines cancelled by the thousand, and still calls what is left', async () => {
    const seen: string[] = [];
    const timer = new SlotTimer<string>((item) => seen.push(item), false);
    const hourAhead = monotonicNow() + 3_600_000;
    for (let i = 0; i < 20_000; i++) {
      timer.schedule(`far-${i}`, hourAhead + i * 10); // a wait of an hour, given up at once, many times
      timer.cancel(`far-${i}`);
    }
    timer.schedule('kept', hourAhead);
    assert.ok(timer.slotCount <= 3_000, `${timer.slotCount} slots kept for one item`);
    timer.schedule('near', monotonicNow() + 5);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(seen, ['near']);
    assert.ok(timer.has('kept'));
    timer.clear();
  });

  it('lets an item due in the same slot cancel or reschedule the others (locks lost together)', async () => {
    const seen: string[] = [];
    const timer: SlotTimer<string> = new SlotTimer((item) => {
      seen.push(item);
      if (item === 'first') {
        timer.cancel('second'); // as a lost lock retiring its siblings does
        timer.schedule('third', monotonicNow() + 40);
      }
    }, false);
    const at = monotonicNow() + 5;
    for (const item of ['first', 'second', 'third']) timer.schedule(item, at);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(seen, ['first'], 'the cancelled and the rescheduled item were skipped, and nothing threw');
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(seen, ['first', 'third']);
  });

  it('calls an item scheduled before the earliest one on its own time, not when the later one is due', async () => {
    const seen: string[] = [];
    const timer = new SlotTimer<string>((item) => seen.push(item), false);
    timer.schedule('late', monotonicNow() + 5_000);
    timer.schedule('early', monotonicNow() + 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(seen, ['early']);
    timer.clear();
  });

  it('keeps calling items after every earlier one was cancelled (an empty slot is skipped)', async () => {
    const seen: string[] = [];
    const timer = new SlotTimer<string>((item) => seen.push(item), false);
    for (let i = 0; i < 100; i++) {
      timer.schedule(`taken-and-released-${i}`, monotonicNow() + 10 + i);
      timer.cancel(`taken-and-released-${i}`);
    }
    timer.schedule('held', monotonicNow() + 150);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(seen, ['held']);
  });

  it('keeps the process alive while an item is due, and not once every item is cancelled', () => {
    const slotTimer = require.resolve('./slot-timer');
    const run = (script: string): string =>
      execFileSync(process.execPath, ['-e', `const { SlotTimer } = require(${JSON.stringify(slotTimer)});\n${script}`], {
        encoding: 'utf8',
        timeout: 20_000,
      });
    const due = run(`const t = new SlotTimer(() => console.log('due'), true); t.schedule('lock', performance.now() + 300);`);
    assert.equal(due.trim(), 'due', 'the process waited for the item');
    // 60 s away: the child would be killed by the 20 s timeout above if the cancelled item still held it
    const cancelled = run(
      `const t = new SlotTimer(() => console.log('due'), true); t.schedule('lock', performance.now() + 60_000); t.cancel('lock'); console.log('exited');`,
    );
    assert.equal(cancelled.trim(), 'exited');
  });
});
