import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntriesAhead } from './etcd-entries-ahead';

/** A waiter's view of the queue, with the prefix watch's epoch under the test's control. */
function following(epoch: { now: number | undefined }) {
  return new EntriesAhead('p/mine', () => epoch.now);
}

describe('EntriesAhead', () => {
  it('is first once every entry it read ahead is deleted, not before', () => {
    const epoch = { now: 1 };
    const ahead = following(epoch);
    ahead.sending();
    ahead.answered({ names: ['p/a', 'p/b'], complete: true });
    assert.equal(ahead.deleted('p/b'), false, 'one still ahead: no need to look');
    assert.equal(ahead.mayHold, false);
    assert.equal(ahead.deleted('p/a'), true, 'the last one ahead went: look now');
    assert.equal(ahead.mayHold, true);
    assert.equal(ahead.followed, true, 'the watch had no gap: no read needed');
  });

  it('applies a delete seen while its read was on the way', () => {
    const ahead = following({ now: 1 });
    ahead.sending();
    ahead.deleted('p/a'); // the release's event came before the read's answer
    ahead.answered({ names: ['p/a'], complete: true });
    assert.equal(ahead.mayHold, true);
  });

  it('trusts nothing it read across a gap in the watch, or before the watch was live', () => {
    const epoch: { now: number | undefined } = { now: undefined };
    const ahead = following(epoch);
    ahead.sending();
    ahead.answered({ names: ['p/a'], complete: true });
    epoch.now = 2; // the watch is confirmed only after the read was sent
    assert.equal(ahead.followed, false);
    ahead.sending();
    ahead.answered({ names: ['p/a'], complete: true });
    assert.equal(ahead.followed, true);
    epoch.now = undefined; // disconnected
    assert.equal(ahead.followed, false);
    epoch.now = 3; // reconnected: deletes in between may have gone unseen
    assert.equal(ahead.followed, false);
  });

  it('reads again once the first of a long queue are gone', () => {
    const ahead = following({ now: 1 });
    ahead.sending();
    ahead.answered({ names: ['p/a'], complete: false });
    assert.equal(ahead.deleted('p/a'), true);
    assert.equal(ahead.mayHold, false, 'more were ahead than the read returned');
    assert.equal(ahead.followed, false, 'so it reads the rest');
  });

  it('sees its own entry deleted, and then trusts no read of before', () => {
    const ahead = following({ now: 1 });
    ahead.sending();
    ahead.answered({ names: [], complete: true });
    assert.equal(ahead.deleted('p/mine'), true);
    assert.equal(ahead.ownDeleted, true);
    assert.equal(ahead.followed, false);
  });
});

describe("EntriesAhead with a kind's rule", () => {
  it('a reader may hold behind readers, and once the writer ahead of it is gone', () => {
    const ahead = new EntriesAhead(
      'p/r-mine',
      () => 1,
      (names) => !names.some((name) => name.startsWith('p/w-')),
    );
    ahead.sending();
    ahead.answered({ names: ['p/r-1', 'p/w-2', 'p/r-3'], complete: true });
    assert.equal(ahead.mayHold, false, 'a writer is ahead');
    assert.equal(ahead.deleted('p/r-1'), false, 'the writer still is');
    assert.equal(ahead.deleted('p/w-2'), true, 'the writer went: look now');
    assert.equal(ahead.mayHold, true, 'behind a reader only');
  });
});
