import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { DataPointType, HistogramMetricData, MeterProvider, MetricData, MetricReader } from '@opentelemetry/sdk-metrics';
import { LOCK_EVENTS_CHANNEL, LockChannelMessage, LockerConfig, LockLostError, LockWaitTimeoutError } from 'nest-locker';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { abortReason, eventually } from './helpers/wait';

/** Collects on demand, as an exporter would. */
class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const config: LockerConfig = {
  locker: { driver: 'memory', driver_instance_id: 'memory' },
  jobs: { driver: 'memory', driver_instance_id: 'memory' },
};

// nest-locker is imported above, before the provider exists: the meter must be taken at module init.
describe('OpenTelemetry metrics on meter nest-locker', () => {
  const reader = new CollectingReader();
  let app: LockerApp;

  before(async () => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    app = await startLockerApp(config);
  });
  after(async () => {
    await app?.close();
    metrics.disable();
  });

  async function collected(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await reader.collect();
    const scope = resourceMetrics.scopeMetrics.find((scopeMetrics) => scopeMetrics.scope.name === 'nest-locker');
    return new Map((scope?.metrics ?? []).map((metric) => [metric.descriptor.name, metric]));
  }

  it('records acquisitions by outcome, holds, held locks and losses, with the section and kind and never the key', async () => {
    const service = app.service;
    await (await service.acquire('report', { locker: 'jobs' })).release(); // acquired (jobs)
    await (await service.acquireRead('report', { locker: 'jobs' })).release(); // acquired (jobs, read)
    const held = await service.acquire('busy-key', { ttl: 1000 }); // acquired (locker)
    assert.equal(await service.tryAcquire('busy-key'), null); // busy
    await assert.rejects(service.acquire('busy-key', { waitTime: 30 }), LockWaitTimeoutError); // timeout
    const controller = new AbortController();
    const aborted = service.acquire('busy-key', { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await assert.rejects(aborted, /caller gave up/); // aborted
    // A wait given up at its deadline can stay in the driver's queue a moment longer (its timer runs on the event
    // loop's clock); a grant then is given back at once, and counted as a hold. Those waits are gone first.
    await eventually(
      () => service.inspect('busy-key'),
      (info) => info?.waiting === 0,
    );
    assert.equal(await service.forceRelease('busy-key'), true);
    assert.ok((await abortReason(held.signal, 3000)) instanceof LockLostError); // lost, refused

    const found = await collected();
    const acquire = found.get('locker.acquire.duration') as HistogramMetricData;
    assert.equal(acquire.dataPointType, DataPointType.HISTOGRAM);
    assert.equal(acquire.descriptor.unit, 's');
    const outcomes = acquire.dataPoints
      .map(
        (point) =>
          `${String(point.attributes['locker.section'])}/${String(point.attributes['locker.kind'])}/${String(point.attributes['locker.outcome'])}=${point.value.count}`,
      )
      .sort();
    assert.deepEqual(outcomes, [
      'jobs/lock/acquired=1',
      'jobs/read/acquired=1',
      'locker/lock/aborted=1',
      'locker/lock/acquired=1',
      'locker/lock/busy=1',
      'locker/lock/timeout=1',
    ]);

    const hold = found.get('locker.hold.duration') as HistogramMetricData;
    assert.deepEqual(
      hold.dataPoints
        .map((point) => [point.attributes['locker.section'], point.attributes['locker.kind'], point.value.count])
        .sort((a, b) => `${String(a[0])}${String(a[1])}`.localeCompare(`${String(b[0])}${String(b[1])}`)),
      [
        ['jobs', 'lock', 1],
        ['jobs', 'read', 1],
        ['locker', 'lock', 1],
      ],
    );
    const heldNow = found.get('locker.held') as MetricData;
    assert.deepEqual(
      heldNow.dataPoints
        .map((point) => [point.attributes['locker.section'], point.attributes['locker.kind'], point.value])
        .sort((a, b) => `${String(a[0])}${String(a[1])}`.localeCompare(`${String(b[0])}${String(b[1])}`)),
      [
        ['jobs', 'lock', 0],
        ['jobs', 'read', 0],
        ['locker', 'lock', 0],
      ],
    );
    const lost = found.get('locker.lost') as MetricData;
    assert.deepEqual(
      lost.dataPoints.map((point) => [point.attributes, point.value]),
      [[{ 'locker.section': 'locker', 'locker.kind': 'lock', 'locker.lost.reason': 'refused' }, 1]],
    );
    const attributeNames = new Set(
      [...found.values()].flatMap((metric) => metric.dataPoints.flatMap((point) => Object.keys(point.attributes))),
    );
    assert.deepEqual([...attributeNames].sort(), ['locker.kind', 'locker.lost.reason', 'locker.outcome', 'locker.section']);
  });

  it('counts a lock held now in locker.held', async () => {
    const lock = await app.service.acquire('held-now');
    const heldNow = (await collected()).get('locker.held') as MetricData;
    assert.deepEqual(heldNow.dataPoints.find((point) => point.attributes['locker.section'] === 'locker')?.value, 1);
    await lock.release();
  });
});

describe('OpenTelemetry metrics of an election', () => {
  const reader = new CollectingReader();
  let app: LockerApp;

  before(async () => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    app = await startLockerApp(config);
  });
  after(async () => {
    await app?.close();
    metrics.disable();
  });

  it('meters the leadership as locker.kind leader, and health counts it among the held locks', async () => {
    const election = app.service.election('metered-election');
    await election.campaign();
    const { resourceMetrics } = await reader.collect();
    const found = new Map(
      (resourceMetrics.scopeMetrics.find((scope) => scope.scope.name === 'nest-locker')?.metrics ?? []).map((metric) => [
        metric.descriptor.name,
        metric,
      ]),
    );
    const held = (found.get('locker.held') as MetricData).dataPoints.find((point) => point.attributes['locker.kind'] === 'leader');
    assert.equal(held?.value, 1);
    const acquired = (found.get('locker.acquire.duration') as MetricData).dataPoints.find(
      (point) => point.attributes['locker.kind'] === 'leader',
    );
    assert.deepEqual(acquired?.attributes, { 'locker.section': 'locker', 'locker.kind': 'leader', 'locker.outcome': 'acquired' });
    assert.equal((await app.service.health()).drivers.memory.heldLocks, 1);
    await election.resign();
  });
});

describe(`node:diagnostics_channel "${LOCK_EVENTS_CHANNEL}"`, () => {
  let app: LockerApp;
  const messages: LockChannelMessage[] = [];
  const listener = (message: unknown) => messages.push(message as LockChannelMessage);

  before(async () => {
    app = await startLockerApp(config);
    subscribe(LOCK_EVENTS_CHANNEL, listener);
  });
  after(async () => {
    unsubscribe(LOCK_EVENTS_CHANNEL, listener);
    await app?.close();
  });

  it("publishes an election's leadership with kind leader and the term as its fencing token", async () => {
    messages.length = 0;
    const election = app.service.election('channel-election', { locker: 'jobs' });
    const lock = await election.campaign();
    await election.resign();
    assert.deepEqual(
      messages.map((message) => [message.type, message.kind, message.section, message.key, message.fencingToken]),
      [
        ['acquired', 'leader', 'jobs', 'channel-election', lock.fencingToken],
        ['released', 'leader', 'jobs', 'channel-election', lock.fencingToken],
      ],
    );
    messages.length = 0;
  });

  it('publishes each lock event with its locker section and kind, without the service or rxjs', async () => {
    const lock = await app.service.acquire('channel-key', { locker: 'jobs' });
    await lock.extend(5000);
    await lock.release();
    const permit = await app.service.acquirePermit('channel-key', { limit: 2 });
    await permit.release();
    assert.deepEqual(
      messages.map((message) => [message.type, message.section, message.kind, message.key, message.driverInstanceId, message.fencingToken]),
      [
        ['acquired', 'jobs', 'lock', 'channel-key', 'memory', lock.fencingToken],
        ['extended', 'jobs', 'lock', 'channel-key', 'memory', lock.fencingToken],
        ['released', 'jobs', 'lock', 'channel-key', 'memory', lock.fencingToken],
        ['acquired', 'locker', 'permit', 'channel-key', 'memory', permit.fencingToken],
        ['released', 'locker', 'permit', 'channel-key', 'memory', permit.fencingToken],
      ],
    );
  });
});
