import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { GRPCDeadlineExceededError, GRPCInvalidArgumentError, GRPCUnavailableError } from 'etcd3';
import { ReplyError } from 'ioredis';
import { isPassingFault } from './passing-fault';

describe('isPassingFault: which client errors a waiting acquire rides out', () => {
  it('passes: a lost or silent connection, a server in a failover or loading, etcd unavailable or late', () => {
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      new Error('Connection is closed.'),
      new Error('Command timed out'),
      new ReplyError('LOADING Redis is loading the dataset in memory'),
      new ReplyError("READONLY You can't write against a read only replica."),
      new ReplyError('CLUSTERDOWN The cluster is down'),
      new GRPCUnavailableError('14 UNAVAILABLE: No connection established'),
      new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'),
    ])
      assert.equal(isPassingFault(error), true, error.message);
  });

  it('is final: what the server answered to the command itself, and errors of the program', () => {
    for (const error of [
      new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
      new ReplyError('ERR Error running script (call to f_0123): @user_script:1: attempt to compare nil with number'),
      new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: key is not provided'),
      new TypeError("Cannot read properties of undefined (reading 'kvs')"),
    ])
      assert.equal(isPassingFault(error), false, error.message);
  });
});
