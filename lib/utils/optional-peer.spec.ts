import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LockerConfigError } from '../errors';
import { requireOptionalPeer } from './optional-peer';

describe('requireOptionalPeer', () => {
  it('says which package to install when a driver client is missing', () => {
    assert.throws(
      () => requireOptionalPeer('nest-locker-missing-client', 'redis', 'cache'),
      (error: unknown) =>
        error instanceof LockerConfigError && error.section === 'cache' && /npm install nest-locker-missing-client/.test(error.message),
    );
  });

  it('loads an installed client', () => {
    assert.equal(typeof requireOptionalPeer<{ Redis: unknown }>('ioredis', 'redis', 'redis').Redis, 'function');
  });
});
