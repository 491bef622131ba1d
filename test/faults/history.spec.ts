import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkHistory, HistoryEvent } from './history';

const holding = (node: string, token: string) => ({ node, key: 'k', token });

/** A holder that acquires at `from`, reads held until `until`, and releases at `releasedAt` (if given). */
function section(node: string, token: string, from: number, until: number, releasedAt?: number): HistoryEvent[] {
  const events: HistoryEvent[] = [
    { ...holding(node, token), kind: 'acquired', at: from },
    { ...holding(node, token), kind: 'held', at: until },
  ];
  if (releasedAt !== undefined) events.push({ ...holding(node, token), kind: 'released', at: releasedAt });
  return events;
}

const rules = (events: HistoryEvent[], clockError = 0.5) => checkHistory(events, clockError).violations.map((v) => v.rule);

describe('the history checker', () => {
  it('passes a clean handoff', () => {
    assert.deepEqual(rules([...section('a', '1', 0, 10, 11), ...section('b', '2', 12, 20, 21)]), []);
  });

  it('finds two holders that both believed they held the key', () => {
    assert.ok(rules([...section('a', '1', 0, 10, 11), ...section('b', '2', 5, 20, 21)]).includes('overlap'));
  });

  it('allows overlap within the measured clock error, and no more', () => {
    const events = [...section('a', '1', 0, 10, 10), ...section('b', '2', 9.8, 20, 21)];
    assert.deepEqual(rules(events, 0.5), []);
    assert.ok(rules(events, 0.1).includes('overlap'));
  });

  it('finds a token that did not grow with the order of acquisition', () => {
    assert.deepEqual(rules([...section('a', '5', 0, 10, 11), ...section('b', '3', 12, 20, 21)]), ['token-order']);
  });

  it('finds a fenced resource that accepted an older token after a newer one', () => {
    const write = (token: string, at: number, accepted: boolean): HistoryEvent => ({
      ...holding('a', token),
      kind: 'write',
      at,
      fenced: true,
      accepted,
    });
    const verdict = checkHistory([write('2', 1, true), write('1', 2, false), write('1', 3, true)], 0);
    assert.deepEqual(
      verdict.violations.map((v) => v.rule),
      ['fencing'],
    );
    assert.equal(verdict.refusedFencedWrites, 1);
  });

  it('counts stale writes an unfenced resource took', () => {
    const write = (token: string, at: number): HistoryEvent => ({
      ...holding('a', token),
      kind: 'write',
      at,
      fenced: false,
      accepted: true,
    });
    assert.equal(checkHistory([write('2', 1), write('1', 2), write('3', 3)], 0).staleUnfencedWrites, 1);
  });

  it('finds a holder that was told of its loss only after the next holder acquired', () => {
    const events = [
      ...section('a', '1', 0, 4),
      { ...holding('a', '1'), kind: 'lost', at: 15, reason: 'deadline' } as HistoryEvent,
      ...section('b', '2', 10, 20, 21),
    ];
    assert.deepEqual(rules(events), ['loss-not-signalled']);
  });

  it('excuses a holder that was frozen when the next holder acquired, but not its overlap', () => {
    const told = [
      ...section('a', '1', 0, 4),
      { ...holding('a', '1'), kind: 'lost', at: 15, reason: 'deadline' } as HistoryEvent,
      ...section('b', '2', 10, 20, 21),
    ];
    assert.deepEqual(rules([...told, { kind: 'frozen', node: 'a', from: 5, to: 14 }]), []);
    const actedWhileFrozen = [
      ...section('a', '1', 0, 12),
      ...section('b', '2', 10, 20, 21),
      { kind: 'frozen', node: 'a', from: 5, to: 14 } as HistoryEvent,
    ];
    assert.deepEqual(rules(actedWhileFrozen), ['overlap']);
  });

  it('allows a holder whose lock an operator took on the server to believe until it is told within the bound, and no longer', () => {
    const tamper: HistoryEvent = { kind: 'tampered', key: 'k', at: 5, boundMs: 10 };
    const toldInTime = [
      ...section('a', '1', 0, 12),
      { ...holding('a', '1'), kind: 'lost', at: 13, reason: 'refused' } as HistoryEvent,
      ...section('b', '2', 6, 20, 21),
    ];
    assert.deepEqual(rules(toldInTime), ['overlap', 'loss-not-signalled'], 'without the tamper it is a broken lock');
    assert.deepEqual(rules([...toldInTime, tamper]), []);
    const toldLate = [
      ...section('a', '1', 0, 18),
      { ...holding('a', '1'), kind: 'lost', at: 19, reason: 'refused' } as HistoryEvent,
      ...section('b', '2', 6, 20, 21),
    ];
    assert.deepEqual(rules([...toldLate, tamper]), ['tamper-not-signalled']);
    const overlapBeforeTheTamper = [...section('a', '1', 0, 4, 13), ...section('b', '2', 3, 13, 14)];
    assert.deepEqual(rules([...overlapBeforeTheTamper, tamper]), ['overlap']);
  });

  describe('for kinds that share a key', () => {
    const held = (
      node: string,
      token: string,
      lock: 'permit' | 'read' | 'write',
      from: number,
      until: number,
      limit?: number,
    ): HistoryEvent[] => [
      { node, key: 'k', token, lock, limit, kind: 'acquired', at: from },
      { node, key: 'k', token, lock, limit, kind: 'held', at: until },
      { node, key: 'k', token, lock, limit, kind: 'released', at: until + 1 },
    ];

    it('lets up to limit permits hold at once, and finds one more', () => {
      const two = [...held('a', '1', 'permit', 0, 10, 2), ...held('b', '2', 'permit', 1, 10, 2)];
      assert.deepEqual(rules(two), []);
      assert.deepEqual(rules([...two, ...held('c', '3', 'permit', 2, 10, 2)]), ['overlap', 'loss-not-signalled']);
    });

    it('lets readers share, and finds a writer beside a reader or a writer', () => {
      const readers = [...held('a', '1', 'read', 0, 10), ...held('b', '2', 'read', 1, 10)];
      assert.deepEqual(rules(readers), []);
      assert.ok(rules([...readers, ...held('c', '3', 'write', 2, 10)]).includes('overlap'));
      assert.ok(rules([...held('w', '1', 'write', 0, 10), ...held('r', '2', 'read', 2, 10)]).includes('overlap'));
      assert.deepEqual(rules([...readers, ...held('c', '3', 'write', 12, 20)]), [], 'a writer after the readers left');
    });
  });
});
