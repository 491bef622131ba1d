import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { watchRetryBackoff } from './etcd-watch-stream';

describe("etcd3's watch-stream retry backoff", () => {
  it('starts near 100 ms, doubles, and never waits more than 1 s', () => {
    let retry = watchRetryBackoff.next();
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      waits.push(retry.duration);
      retry = retry.next();
    }
    assert.ok(waits[0] >= 50 && waits[0] <= 100, `first wait ${waits[0]} ms`);
    assert.ok(waits[3] >= 400, `grows: ${waits.join(', ')}`);
    assert.ok(Math.max(...waits) <= 1_000, `at most 1 s: ${waits.join(', ')}`);
    assert.ok(
      waits.slice(5).every((wait) => wait >= 500),
      `stays near its ceiling: ${waits.join(', ')}`,
    );
  });
});
