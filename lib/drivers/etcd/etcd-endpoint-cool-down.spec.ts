import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { castGrpcError, GRPCUnavailableError } from 'etcd3';
import { ENDPOINT_COOL_DOWN_MS, EndpointCoolDown, unreachableWith } from './etcd-endpoint-cool-down';

/** gRPC errors as etcd3 turns them into its own. */
const grpcError = (message: string) => castGrpcError(Object.assign(new Error(message), { code: 14 }));
const refused = () => grpcError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1');
class PassedOver extends Error {}

const coolDown = (endpoints: string[]) =>
  new EndpointCoolDown(endpoints, unreachableWith(GRPCUnavailableError), (endpoint) => new PassedOver(endpoint));
/** Runs one call through the endpoint's policy; what happened to it. */
const call = (policies: EndpointCoolDown, endpoint: string, outcome: 'ok' | Error = 'ok') =>
  policies.policy(endpoint).execute(() => {
    if (outcome !== 'ok') throw outcome;
    return 'called';
  });

describe('EndpointCoolDown', () => {
  it('passes over an endpoint that failed to connect while another one has not failed', async () => {
    const policies = coolDown(['a', 'b', 'c']);
    await assert.rejects(call(policies, 'a', refused()), GRPCUnavailableError);
    await assert.rejects(call(policies, 'a'), PassedOver);
    assert.equal(await call(policies, 'b'), 'called');
  });

  it('tries every endpoint again when all of them failed: an outage never refuses calls by itself', async () => {
    const policies = coolDown(['a', 'b']);
    await assert.rejects(call(policies, 'a', refused()), GRPCUnavailableError);
    await assert.rejects(call(policies, 'b', refused()), GRPCUnavailableError);
    assert.equal(await call(policies, 'a'), 'called');
    assert.equal(await call(policies, 'b'), 'called');
  });

  it('never passes over a single endpoint (a restarted single server is used at once)', async () => {
    const policies = coolDown(['only']);
    await assert.rejects(call(policies, 'only', refused()), GRPCUnavailableError);
    assert.equal(await call(policies, 'only'), 'called');
  });

  it('does not pass over an endpoint for an answer from a live member', async () => {
    const policies = coolDown(['a', 'b']);
    await assert.rejects(call(policies, 'a', grpcError('14 UNAVAILABLE: etcdserver: request timed out')), GRPCUnavailableError);
    assert.equal(await call(policies, 'a'), 'called');
  });

  it('uses a failed endpoint again once its cool-down is over', async () => {
    const policies = coolDown(['a', 'b']);
    await assert.rejects(call(policies, 'a', refused()), GRPCUnavailableError);
    await assert.rejects(call(policies, 'a'), PassedOver);
    await new Promise((resolve) => setTimeout(resolve, ENDPOINT_COOL_DOWN_MS + 50));
    assert.equal(await call(policies, 'a'), 'called');
  });
});
