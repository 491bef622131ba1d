import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sentinelState } from './redis-sentinel-view';

/** A SENTINEL MASTER / REPLICAS entry as the sentinels send it: a flat name, value list. */
const entry = (fields: Record<string, string>): string[] => Object.entries(fields).flat();
const master = (flags = 'master') => entry({ name: 'm', ip: '10.0.0.1', port: '6379', flags });
const replica = (port: string, fields: Record<string, string> = {}) =>
  entry({ ip: '10.0.0.2', port, flags: 'slave', 'role-reported': 'slave', 'info-refresh': '812', 'slave-repl-offset': '5120', ...fields });

describe('what the sentinels say of a master', () => {
  it('counts the replicas they could promote, and lists every replica', () => {
    const state = sentinelState(master(), [replica('6380'), replica('6381')]);
    assert.deepEqual(state, { master: '10.0.0.1:6379', failingOver: false, replicas: 2, replicaAddrs: ['10.0.0.2:6380', '10.0.0.2:6381'] });
  });

  it('does not count a replica that is down, disconnected, reports itself master, or was never heard from', () => {
    const counted = (fields: Record<string, string>) => sentinelState(master(), [replica('6380', fields)]).replicas;
    assert.equal(counted({ flags: 'slave,s_down' }), 0);
    assert.equal(counted({ flags: 's_down,slave,disconnected' }), 0);
    assert.equal(counted({ flags: 'slave,disconnected' }), 0);
    assert.equal(counted({ 'role-reported': 'master' }), 0, 'the old master after a failover, or one promoted behind their back');
    assert.equal(counted({ 'info-refresh': '0', 'slave-repl-offset': '0' }), 0, 'just listed: the old master right after a switch');
    assert.equal(counted({ 'info-refresh': '0' }), 1, 'heard from this very ms');
    assert.equal(counted({ 'slave-repl-offset': '0' }), 1, 'a master that took no write yet');
  });

  it('sees a failover under way in the master flag or a replica being promoted', () => {
    assert.equal(sentinelState(master('master,failover_in_progress,force_failover'), [replica('6380')]).failingOver, true);
    assert.equal(sentinelState(master(), [replica('6380', { flags: 'slave,promoted' })]).failingOver, true);
    assert.equal(sentinelState(master('master,s_down'), [replica('6380')]).failingOver, false);
  });
});
