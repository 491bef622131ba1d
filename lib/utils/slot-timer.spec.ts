import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monotonicNow } from './clock';
import { SlotTimer } from './slot-timer';

describe('SlotTimer', () => {
  it('calls each item once, never after its time, and not at all once cancelled', async () => {
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
});
