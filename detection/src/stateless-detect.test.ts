import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Topics, createMetricsRegistry, newEventId, isIncidentResolution, type AnomalyTopicRecord, type IncidentResolution, loadConfig, normalizeEventInput, type Anomaly, type HeliosConfig, type HeliosEvent } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { loadPlugins } from '@helios/plugins';
import { createRecordingLogger, testHost, testStores, type TestStore } from '@helios/plugins/testing';
import type { Store } from '@helios/store';
import { startDetectRuntime } from './detect-runtime.js';
import { RUNTIME_STATE_PLUGIN } from './incident-state.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const root = resolve(import.meta.dirname, '..', '..');

/** Anomalous when more than half the window's events fail: stateless, so only the runtime's state matters. */
const ERROR_PLUGIN = `export default { kind: 'detector', name: 'error-share', version: '1.0.0', apiVersion: '^1.0.0',
  setup() { return { detect(w) { const bad = w.features.error_rate > 0.3; return { score: bad ? 2 : 0, threshold: 1, anomalous: bad, explanation: [], modelVersion: 'v1' }; } }; } };\n`;

/** Twelve events a minute; `failing` minutes have every event fail. */
function minuteOf(m: number, failing: boolean): HeliosEvent[] {
  return Array.from({ length: 12 }, (_, i) => normalizeEventInput(
    { service: 'pay', timestamp: T0 + m * MIN + i * 5000, latency_ms: 20 + (i % 3), endpoint: '/p', ...(failing ? { level: 'ERROR', status_code: 503 } : {}) },
    { tenant: 't', now: T0 }));
}

const stores: TestStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
/** The store backends; the tests of state kept with the incident table and of metric judges run on each. */
const backends = testStores();

async function sharedStore(open: () => Promise<TestStore> = backends[0]![1]): Promise<Store> {
  const opened = await open();
  stores.push(opened);
  return opened.store;
}

/** One detect worker on its own bus (as if it had the partition), sharing the store with the others. */
async function worker(store: Store, detection: Partial<HeliosConfig['detection']>, plugins: Array<{ use: string; options?: Record<string, unknown> }> = [{ use: './error-share.mjs' }]) {
  const dir = mkdtempSync(join(tmpdir(), 'helios-stateless-'));
  writeFileSync(join(dir, 'error-share.mjs'), ERROR_PLUGIN);
  const detectors = await loadPlugins(plugins, 'detector', testHost({ baseDir: plugins[0]!.use.startsWith('.') ? dir : root, dataDir: dir, detectorState: store }));
  const bus = createMemoryBus({ capacity: 100_000 });
  // Openings and resolutions share the anomalies topic: kept apart here.
  const anomalies: Anomaly[] = [];
  const resolutions: IncidentResolution[] = [];
  bus.subscribe<AnomalyTopicRecord>(Topics.anomalies, 'test', async (records) => {
    for (const { value } of records) isIncidentResolution(value) ? resolutions.push(value) : anomalies.push(value);
  });
  const { logger, records: logs } = createRecordingLogger('info');
  const config = loadConfig({ env: {}, cwd: dir }).config;
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const runtime = startDetectRuntime({
    bus, detectors, store, logger, metrics, now: () => T0 + 1e9,
    detection: { ...config.detection, idleFlushMs: 0, allowedLatenessMs: 0, confirmWindows: 1, resolveAfterWindows: 2, gapAfterMs: 0, ...detection },
  });
  /** The storage role stores what the gateway accepted; this worker's partition then delivers it. */
  const feed = async (events: HeliosEvent[]) => {
    await store.insertEvents(events);
    await bus.publish(Topics.events, events.map((value) => ({ key: 't/pay', value })));
    await bus.drain();
  };
  return { runtime, bus, anomalies, resolutions, logs, feed, detectors, metrics };
}

describe('stateless detect workers (series state in the store)', { timeout: 90_000 }, () => {
  it('a worker taking a series over mid-incident neither opens it again nor loses it: it resolves it once, and judges within a hop', async () => {
    const store = await sharedStore();
    const first = await worker(store, {});
    for (let m = 0; m < 13; m++) await first.feed(minuteOf(m, m >= 9));
    expect(first.anomalies).toHaveLength(1);
    const incidentId = first.anomalies[0]!.id;
    // The first worker dies here: no close, no flush (its open windows and unsaved streaks are gone).

    const second = await worker(store, {});
    await second.feed(minuteOf(13, true));
    await second.feed(minuteOf(14, true).slice(0, 1));
    // Its first window [9, 14) closed with the first event of minute 14: filled from the stored events, not
    // waiting five minutes for a window of its own events only.
    expect(second.runtime.windowsEvaluated).toBe(1);
    for (let m = 14; m < 30; m++) await second.feed(minuteOf(m, m < 16));
    await second.runtime.close();
    expect(second.anomalies).toEqual([]); // the incident is not opened a second time
    const resolved = second.logs.filter((l) => l.msg === 'incident resolved: windows back to normal');
    expect(resolved.map((l) => l['incident'])).toEqual([incidentId]);
    expect(second.resolutions.map((r) => r.incidentId)).toEqual([incidentId]); // resolved once, with the id the first worker opened it under
    expect(second.logs.some((l) => l.msg === 'series taken over with an open incident' && l['incident'] === incidentId)).toBe(true);
  });

  describe.each(backends)('the incident table (helios_incidents) has the last word on an incident\'s status (%s)', (_backend, open) => {
    /** A first worker opens the incident of minutes 9.. and dies; the report runtime has recorded it. */
    const openedThenDied = async () => {
      const store = await sharedStore(open);
      const first = await worker(store, {});
      for (let m = 0; m < 13; m++) await first.feed(minuteOf(m, m >= 9));
      expect(first.anomalies).toHaveLength(1);
      const incident = await store.openIncident(first.anomalies[0]!);
      return { store, first, incident };
    };
    /** A successor judges minutes 13..29: failing until `failingUntil`, then normal. */
    const successorRuns = async (store: Store, failingUntil: number, detection: Partial<HeliosConfig['detection']> = {}) => {
      const second = await worker(store, detection);
      for (let m = 13; m < 30; m++) await second.feed(minuteOf(m, m < failingUntil));
      await second.runtime.close();
      return second;
    };

    it('an incident resolved through the API is not continued by the successor: the lasting anomaly opens a new one, resolved once', async () => {
      const { store, incident } = await openedThenDied();
      expect((await store.resolveIncident(incident.id, { by: 'api:alice', at: T0 + 13 * MIN }))?.status).toBe('resolved');
      const second = await successorRuns(store, 17);
      expect(second.anomalies).toHaveLength(1);
      expect(second.anomalies[0]!.id).not.toBe(incident.id);
      expect(second.resolutions.map((r) => r.incidentId)).toEqual([second.anomalies[0]!.id]);
      expect(second.logs.some((l) => l.msg === 'incident resolved outside the detector: not continued; a lasting anomaly opens a new one' && l['incident'] === incident.id)).toBe(true);
    });

    it('an acknowledged incident is continued: no second opening, the detector resolves it once', async () => {
      const { store, incident } = await openedThenDied();
      expect((await store.acknowledgeIncident(incident.id, { by: 'api:bob', at: T0 + 13 * MIN }))?.status).toBe('acknowledged');
      const second = await successorRuns(store, 17);
      expect(second.anomalies).toEqual([]);
      expect(second.resolutions.map((r) => r.incidentId)).toEqual([incident.id]);
    });

    it('an incident open in the table whose series has no saved state (lost, or an older format) is continued, not duplicated', async () => {
      const { store, incident } = await openedThenDied();
      // The saved state becomes one of a format this version does not read.
      const key = 't\u0000pay';
      expect(await store.putDetectorStates(RUNTIME_STATE_PLUGIN, [{ tenant: 't', seriesKey: key, version: 0, updatedAt: Date.now() + 60_000, state: Buffer.from('{}') }])).toBe(1);
      const second = await successorRuns(store, 17);
      expect(second.anomalies).toEqual([]);
      expect(second.resolutions.map((r) => r.incidentId)).toEqual([incident.id]);
      expect(second.logs.some((l) => l.msg === 'series without saved state continues its unresolved incident' && l['incident'] === incident.id)).toBe(true);
    });

    it('a series whose saved state closed its incident does not reopen it from the table while the resolution is on its way', async () => {
      const { store, first, incident } = await openedThenDied();
      for (let m = 13; m < 20; m++) await first.feed(minuteOf(m, false));
      expect(first.resolutions.map((r) => r.incidentId)).toEqual([incident.id]); // published; the report runtime has not applied it yet
      await first.runtime.close();
      const second = await worker(store, {});
      for (let m = 20; m < 33; m++) await second.feed(minuteOf(m, m >= 22 && m < 25));
      await second.runtime.close();
      expect(second.anomalies).toHaveLength(1); // the new episode is an incident of its own
      expect(second.resolutions.map((r) => r.incidentId)).toEqual([second.anomalies[0]!.id]);
    });

    it('the worker holding an incident open learns within stateSaveIntervalMs that the API resolved it', async () => {
      const store = await sharedStore(open);
      const w = await worker(store, { stateSaveIntervalMs: 200 });
      for (let m = 0; m < 13; m++) await w.feed(minuteOf(m, m >= 9));
      const incident = await store.openIncident(w.anomalies[0]!);
      await store.resolveIncident(incident.id, { by: 'api:alice', at: T0 + 13 * MIN });
      for (let i = 0; i < 50 && !w.logs.some((l) => l.msg === 'incident resolved outside the detector: not continued; a lasting anomaly opens a new one'); i++) await new Promise((r) => setTimeout(r, 50));
      for (let m = 13; m < 30; m++) await w.feed(minuteOf(m, m < 17));
      await w.runtime.close();
      expect(w.anomalies).toHaveLength(2);
      expect(w.resolutions.map((r) => r.incidentId)).toEqual([w.anomalies[1]!.id]); // the one the API closed is not resolved again
    });
  });

  it.each(backends)('a metric series keeps its calibrated judge and its open incident across a worker restart: judged at once, no second opening, resolved once (%s)', async (_backend, open) => {
    /** A gauge every 10 s around 100; `shifted` minutes at 150. */
    const metricMinute = (m: number, shifted: boolean): HeliosEvent[] => Array.from({ length: 6 }, (_, i) => ({
      id: newEventId(), timestamp: T0 + m * MIN + i * 10_000, service: 'pay', level: 'INFO', message: 'queue.depth', kind: 'metric', endpoint: null, latency_ms: null, status_code: null, error_code: null,
      trace_id: null, span_id: null, sample_rate: 1, tenant: 't', resource: {},
      attributes: { 'metric.name': 'queue.depth', 'metric.type': 'gauge', 'metric.value': (shifted ? 150 : 100) + 2 * Math.sin(m * 6 + i) },
    }));
    const zscore = (persist: boolean) => [{ use: '@helios/detector-robust-zscore', options: { persist } }];
    const store = await sharedStore(open);
    const first = await worker(store, {}, zscore(true));
    for (let m = 0; m < 63; m++) await first.feed(metricMinute(m, m >= 60));
    expect(first.anomalies).toHaveLength(1);
    expect(first.anomalies[0]!.metric?.name).toBe('queue.depth');
    const [before] = first.runtime.seriesStates('t', 'pay');
    expect(before).toMatchObject({ state: 'active' });
    // A restart: the runtime and the detectors shut down cleanly (SIGTERM), the disk goes with the task.
    await first.runtime.close();
    for (const d of first.detectors) await d.shutdown();

    /** Minute `m` on a fresh worker: its first metric window [m - 4, m + 1) closes with minute m + 1's first point. */
    const takeOver = async (persist: boolean, m: number, shifted: boolean) => {
      const w = await worker(store, {}, zscore(persist));
      await w.feed(metricMinute(m, shifted));
      await w.feed(metricMinute(m + 1, shifted).slice(0, 1));
      expect(w.runtime.metricWindowsEvaluated).toBe(1); // filled from the stored points, not five minutes of its own
      return w;
    };
    const second = await takeOver(true, 63, true);
    const [after] = second.runtime.seriesStates('t', 'pay');
    // The judge the first worker had, one window on: active, not relearning.
    expect(after).toMatchObject({ state: 'active', windowsSeen: before!.windowsSeen + 1 });
    expect(after!.threshold).toBeCloseTo(before!.threshold!, 6);
    for (let m = 64; m < 75; m++) await second.feed(metricMinute(m, m < 66).slice(m === 64 ? 1 : 0));
    await second.runtime.close();
    for (const d of second.detectors) await d.shutdown();
    expect(second.anomalies).toEqual([]);
    expect(second.resolutions.map((r) => r.incidentId)).toEqual([first.anomalies[0]!.id]);

    // What the saved judge spares: without it a successor's first window finds the series learning.
    const cold = await takeOver(false, 75, false);
    expect(cold.runtime.seriesStates('t', 'pay')).toMatchObject([{ state: 'learning', windowsSeen: 1 }]);
    await cold.runtime.close();
  });

  it('windows the previous owner judged are not judged again when their events come again (an uncommitted offset)', async () => {
    const store = await sharedStore();
    const minutes = Array.from({ length: 30 }, (_, m) => minuteOf(m, m >= 9 && m < 16));
    const first = await worker(store, {});
    for (let m = 0; m < 13; m++) await first.feed(minutes[m]!);
    expect(first.anomalies).toHaveLength(1);
    await first.runtime.close(); // a clean handover: everything saved

    const second = await worker(store, {});
    // Its partition restarts from minute 2: the calm minutes 2..8 would resolve the incident if judged again.
    for (let m = 2; m < 16; m++) await second.feed(minutes[m]!);
    expect(second.logs.filter((l) => l.msg === 'incident resolved: windows back to normal')).toEqual([]);
    for (let m = 16; m < 30; m++) await second.feed(minutes[m]!);
    await second.runtime.close();
    expect(second.anomalies).toEqual([]);
    expect(second.logs.filter((l) => l.msg === 'incident resolved: windows back to normal').map((l) => l['incident'])).toEqual([first.anomalies[0]!.id]);
    expect(second.resolutions.map((r) => r.incidentId)).toEqual([first.anomalies[0]!.id]);
  });

  it('without the store a successor starts blind: it opens the same incident again (what the store prevents)', async () => {
    const store = await sharedStore();
    const first = await worker(store, {});
    for (let m = 0; m < 13; m++) await first.feed(minuteOf(m, m >= 9));
    const dir = mkdtempSync(join(tmpdir(), 'helios-stateless-'));
    writeFileSync(join(dir, 'error-share.mjs'), ERROR_PLUGIN);
    const detectors = await loadPlugins([{ use: './error-share.mjs' }], 'detector', testHost({ baseDir: dir, dataDir: dir }));
    const bus = createMemoryBus({ capacity: 100_000 });
    const anomalies: Anomaly[] = [];
    bus.subscribe<Anomaly>(Topics.anomalies, 'test', async (records) => void anomalies.push(...records.map((r) => r.value)));
    const config = loadConfig({ env: {}, cwd: dir }).config;
    const blind = startDetectRuntime({ bus, detectors, logger: createRecordingLogger().logger, metrics: createMetricsRegistry({ defaultMetrics: false }), now: () => T0 + 1e9, detection: { ...config.detection, idleFlushMs: 0, allowedLatenessMs: 0, confirmWindows: 1, resolveAfterWindows: 2, gapAfterMs: 0 } });
    for (let m = 13; m < 20; m++) {
      await bus.publish(Topics.events, minuteOf(m, m < 16).map((value) => ({ key: 't/pay', value })));
      await bus.drain();
    }
    await blind.close();
    expect(anomalies).toHaveLength(1);
  });

  it('spends at most about a second of each batch warming new series; the rest are warmed with the next batches', async () => {
    const store = await sharedStore();
    const dir = mkdtempSync(join(tmpdir(), 'helios-stateless-'));
    // Each warm takes 400 ms and records which series it was.
    writeFileSync(join(dir, 'slow-warm.mjs'), `export const warmed = []; export default { kind: 'detector', name: 'slow-warm', version: '1.0.0', apiVersion: '^1.4.0',
      setup() { return { async warm(s) { await new Promise((r) => setTimeout(r, 400)); warmed.push(s.service); }, detect() { return undefined; } }; } };\n`);
    const detectors = await loadPlugins([{ use: './slow-warm.mjs' }], 'detector', testHost({ baseDir: dir, dataDir: dir, detectorState: store }));
    const { warmed } = (await import(join(dir, 'slow-warm.mjs'))) as { warmed: string[] };
    const bus = createMemoryBus({ capacity: 100_000 });
    const config = loadConfig({ env: {}, cwd: dir }).config;
    const runtime = startDetectRuntime({ bus, detectors, store, logger: createRecordingLogger().logger, metrics: createMetricsRegistry({ defaultMetrics: false }), now: () => T0 + 1e9, detection: { ...config.detection, idleFlushMs: 0 } });
    const services = ['a', 'b', 'c', 'd', 'e', 'f'];
    const batch = (m: number) => services.map((service) => normalizeEventInput({ service, timestamp: T0 + m * MIN }, { tenant: 't', now: T0 }));
    await bus.publish(Topics.events, batch(0).map((value) => ({ key: 't', value })));
    await bus.drain();
    expect(warmed.length).toBeGreaterThanOrEqual(1);
    expect(warmed.length).toBeLessThanOrEqual(4); // 1 s of 400 ms warms, the last one started inside the budget
    for (let m = 1; warmed.length < services.length && m < 10; m++) {
      await bus.publish(Topics.events, batch(m).map((value) => ({ key: 't', value })));
      await bus.drain();
    }
    expect([...warmed].sort()).toEqual(services); // each once
    await runtime.close();
  });

  it('a series no worker saved state for is warmed from its stored rollups: the Isolation Forest judges its first live window', async () => {
    /** Four hours of calm history, stored and rolled up, that no detect worker ever judged. */
    const storeWithHistory = async (): Promise<Store> => {
      const store = await sharedStore();
      const history: HeliosEvent[] = [];
      for (let m = 0; m < 240; m++) history.push(...minuteOf(m, false));
      await store.insertEvents(history);
      await store.maintain({ now: T0 + 241 * MIN });
      expect(await store.rollups({ tenant: 't', service: 'pay', from: T0, to: T0 + 240 * MIN })).toHaveLength(240);
      return store;
    };
    /** Live minutes 240..246 on a fresh worker; how many of its windows the Isolation Forest had an opinion on. */
    const judgedWindows = async (warmStartMs: number): Promise<number> => {
      const w = await worker(await storeWithHistory(), { warmStartMs }, [{ use: '@helios/detector-isolation-forest', options: { persist: false } }]);
      for (let m = 240; m < 247; m++) {
        await w.bus.publish(Topics.events, minuteOf(m, false).map((value) => ({ key: 't/pay', value })));
        await w.bus.drain();
      }
      await w.runtime.close();
      for (const d of w.detectors) await d.shutdown();
      const scores = await w.metrics.getSingleMetric('helios_anomaly_detection_score')!.get();
      return scores.values.length;
    };
    expect(await judgedWindows(0)).toBe(0); // cold: 60 windows to go before its first verdict
    expect(await judgedWindows(4 * 60 * MIN)).toBe(1);
  });
});
