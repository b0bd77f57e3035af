import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Topics, isIncidentResolution, type AnomalyTopicRecord, createMetricsRegistry, loadConfig, normalizeEventInput, seededRandom, silentLogger, type Anomaly, type Bus, type Detection, type FeatureWindow, type HeliosConfig, type TelemetryGapRecord } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createIncidentTracker, startDetectRuntime, type Verdict } from './detect-runtime.js';
import { loadPlugins } from '@helios/plugins';
import { createGapPublisher } from './telemetry-gaps.js';
import { anomalousWindow, testHost, windowSeries } from '@helios/plugins/testing';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const root = resolve(import.meta.dirname, '..', '..');
const window = (end: number): FeatureWindow => ({ tenant: 't', service: 's', start: end - 5 * MIN, end, features: windowSeries(1)[0]!.features });
const verdict = (detector: string, anomalous: boolean): Verdict => ({ detector, detection: { score: anomalous ? 2 : 0.5, threshold: 1, anomalous, explanation: [], modelVersion: 'v' } satisfies Detection });

describe('createIncidentTracker', () => {
  it('applies the vote rule across detectors', () => {
    const split = [verdict('a', true), verdict('b', false), verdict('c', true)];
    const outcome = (vote: 'any' | 'majority' | 'all', verdicts: Verdict[]) => createIncidentTracker({ vote, confirmWindows: 1, resolveAfterWindows: 1, immediateRatio: 0 }).observe(window(T0), verdicts)!.anomalous;
    expect(outcome('any', split)).toBe(true);
    expect(outcome('majority', split)).toBe(true);
    expect(outcome('all', split)).toBe(false);
    expect(outcome('majority', [verdict('a', true), verdict('b', false)])).toBe(false);
    expect(createIncidentTracker({ vote: 'any', confirmWindows: 1, resolveAfterWindows: 1, immediateRatio: 0 }).observe(window(T0), [])).toBeUndefined();
  });

  it('confirms, deduplicates while open, and resolves after enough normal windows', () => {
    const tracker = createIncidentTracker({ vote: 'any', confirmWindows: 2, resolveAfterWindows: 2, immediateRatio: 0 });
    const run = (flags: boolean[]) => flags.map((f, i) => tracker.observe(window(T0 + i * MIN), [verdict('a', f)])!);
    const steps = run([true, true, true, false, true, false, false, true, true]);
    expect(steps.map((s) => s.opened !== undefined)).toEqual([false, true, false, false, false, false, false, false, true]);
    expect(steps.map((s) => s.resolved)).toEqual([false, false, false, false, false, false, true, false, false]);
  });

  it('opens at once on a window far past its threshold (immediateRatio), and still confirms a marginal one', () => {
    const tracker = createIncidentTracker({ vote: 'any', confirmWindows: 2, resolveAfterWindows: 1, immediateRatio: 2 });
    const scored = (score: number): Verdict => ({ detector: 'a', detection: { score, threshold: 1, anomalous: score > 1, explanation: [], modelVersion: 'v' } });
    const steps = [1.5, 0.5, 3, 0.5, 1.5, 1.5].map((score, i) => tracker.observe(window(T0 + i * MIN), [scored(score)])!);
    expect(steps.map((s) => s.opened !== undefined)).toEqual([false, false, true, false, false, true]);
  });
});

describe('detection.vote with the two repo detectors', () => {
  it('opens one incident when the Isolation Forest and the robust z-score both call the window (vote: all)', async () => {
    const host = testHost({ baseDir: root, dataDir: mkdtempSync(join(tmpdir(), 'helios-vote-')) });
    const detectors = await loadPlugins([{ use: '@helios/detector-isolation-forest' }, { use: '@helios/detector-robust-zscore' }], 'detector', host);
    const tracker = createIncidentTracker({ vote: 'all', confirmWindows: 2, resolveAfterWindows: 3, immediateRatio: 0 });
    const opened: Verdict[][] = [];
    const normal = windowSeries(200);
    const incident = [1, 2, 3].map((i) => anomalousWindow('checkout', 'default', normal.at(-1)!.end + i * MIN));
    for (const w of [...normal, ...incident]) {
      const verdicts: Verdict[] = [];
      for (const d of detectors) {
        const detection = await d.hooks.detect(w);
        if (detection !== undefined) verdicts.push({ detector: d.name, detection });
      }
      const step = tracker.observe(w, verdicts);
      if (step?.opened !== undefined) opened.push(step.opened.votes);
    }
    expect(opened).toHaveLength(1);
    expect(opened[0]!.map((v) => v.detector).sort()).toEqual(['@helios/detector-isolation-forest', '@helios/detector-robust-zscore']);
    for (const d of detectors) await d.shutdown();
  });
});

/** A detector that calls any window with fewer than 10 events anomalous: a traffic-drop alarm. */
const LOW_TRAFFIC_PLUGIN = `export default { kind: 'detector', name: 'low-traffic', version: '1.0.0', apiVersion: '^1.0.0',
  setup() { return { detect(w) { const low = w.features.total_events < 10; return { score: low ? 2 : 0, threshold: 1, anomalous: low, explanation: [], modelVersion: 'v1' }; } }; } };\n`;

async function runWithSilence(detection: Partial<HeliosConfig['detection']>, mark?: (rt: ReturnType<typeof startDetectRuntime>, bus: Bus) => void | Promise<void>): Promise<Anomaly[]> {
  const dir = mkdtempSync(join(tmpdir(), 'helios-gap-'));
  writeFileSync(join(dir, 'low-traffic.mjs'), LOW_TRAFFIC_PLUGIN);
  const detectors = await loadPlugins([{ use: './low-traffic.mjs' }], 'detector', testHost({ baseDir: dir, dataDir: dir }));
  const bus = createMemoryBus({ capacity: 100_000 });
  const anomalies: Anomaly[] = [];
  // Openings only: the traffic drop's incident also resolves once traffic is back (detect-resolution.test.ts).
  bus.subscribe<AnomalyTopicRecord>(Topics.anomalies, 'test', async (records) => void anomalies.push(...records.map((r) => r.value).filter((v): v is Anomaly => !isIncidentResolution(v))));
  const config = loadConfig({ env: {}, cwd: dir }).config;
  const runtime = startDetectRuntime({ bus, detectors, detection: { ...config.detection, idleFlushMs: 0, ...detection }, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }), now: () => T0 + 1e9 });
  await mark?.(runtime, bus);
  // 20 busy minutes, 12 minutes in which nothing arrives, 20 busy minutes.
  for (const m of [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 32 + i)]) {
    const events = Array.from({ length: 30 }, (_, i) => normalizeEventInput({ service: 'svc', timestamp: T0 + m * MIN + i * 1000, latency_ms: 20, endpoint: '/a' }, { tenant: 't', now: T0 }));
    await bus.publish(Topics.events, events.map((value) => ({ key: 't/svc', value })));
    await bus.drain();
  }
  await runtime.flush();
  await bus.drain();
  await runtime.close();
  await bus.close();
  return anomalies;
}

describe('completeness-aware detection', () => {
  it('without gap detection, silence in the pipeline looks like a traffic drop', async () => {
    expect(await runWithSilence({ gapAfterMs: 0 })).toHaveLength(1);
  });

  it('a jump of the watermark marks a gap: the windows it touches are not judged', async () => {
    expect(await runWithSilence({ gapAfterMs: 3 * MIN })).toHaveLength(0);
  });

  it('markGap (e.g. from a gateway that refused events) suppresses the windows it overlaps', async () => {
    expect(await runWithSilence({ gapAfterMs: 0 }, (rt) => rt.markGap(T0 + 20 * MIN, T0 + 32 * MIN, 't'))).toHaveLength(0);
    expect(await runWithSilence({ gapAfterMs: 0 }, (rt) => rt.markGap(T0 + 20 * MIN, T0 + 32 * MIN, 'another-tenant'))).toHaveLength(1);
  });
});

describe('telemetry gaps across processes (TelemetryGapRecord on the bus)', () => {
  it('a gap published by a gateway elsewhere suppresses the windows it overlaps, with no direct markGap', async () => {
    // Split roles over the in-process bus: the gateway side only has the bus, not the detect runtime.
    const gatewaySide = async (_rt: unknown, bus: Bus) => {
      const gaps = createGapPublisher({ bus, marginMs: 6 * MIN, logger: silentLogger(), coalesceMs: 10 });
      gaps.refused(T0 + 26 * MIN, 'HLS_ERR_BUS_FULL');
      gaps.refused(T0 + 26 * MIN + 1, 'HLS_ERR_BUS_FULL');
      await gaps.close();
      expect(gaps.published).toBe(1); // two refusals, one record
      await bus.drain();
    };
    expect(await runWithSilence({ gapAfterMs: 0 }, gatewaySide)).toHaveLength(0);
  });

  it('ignores malformed gap records and applies tenant-scoped ones to that tenant only', async () => {
    const publish = (records: unknown[]) => async (_rt: unknown, bus: Bus) => {
      await bus.publish(Topics.telemetryGaps, records.map((value) => ({ key: 'gateway', value })));
      await bus.drain();
    };
    const gap = (tenant?: string): TelemetryGapRecord => ({ from: T0 + 20 * MIN, to: T0 + 32 * MIN, refusals: { HLS_ERR_OVERLOADED: 3 }, source: 'gateway', ...(tenant === undefined ? {} : { tenant }) });
    expect(await runWithSilence({ gapAfterMs: 0 }, publish([{ nonsense: true }, null, 'x']))).toHaveLength(1);
    expect(await runWithSilence({ gapAfterMs: 0 }, publish([gap('another-tenant')]))).toHaveLength(1);
    expect(await runWithSilence({ gapAfterMs: 0 }, publish([gap('t')]))).toHaveLength(0);
  });

  it('keeps a gap the bus refused and publishes it (merged with later refusals) once the bus takes records again', async () => {
    const sent: TelemetryGapRecord[] = [];
    let refuse = true;
    const bus = { publish: async (_topic: string, records: ReadonlyArray<{ value: unknown }>) => {
      if (refuse) throw new Error('bus full');
      sent.push(...records.map((r) => r.value as TelemetryGapRecord));
    } } as unknown as Bus;
    const gaps = createGapPublisher({ bus, marginMs: MIN, logger: silentLogger(), coalesceMs: 5 });
    gaps.refused(T0, 'HLS_ERR_BUS_FULL');
    await new Promise((r) => setTimeout(r, 30)); // a few failed attempts
    gaps.refused(T0 + 5 * MIN, 'HLS_ERR_BUS_CLOSED');
    refuse = false;
    await gaps.close();
    expect(sent).toEqual([{ from: T0 - MIN, to: T0 + 6 * MIN, refusals: { HLS_ERR_BUS_FULL: 1, HLS_ERR_BUS_CLOSED: 1 }, source: 'gateway' }]);
    await gaps.close(); // idempotent
    expect(sent).toHaveLength(1);
  });
});

describe('metric series through the detect runtime', () => {
  it('judges metric points as series of their own: a level shift opens one incident naming the metric, requests stay quiet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-metric-rt-'));
    const detectors = await loadPlugins([{ use: '@helios/detector-isolation-forest' }, { use: '@helios/detector-robust-zscore' }], 'detector', testHost({ baseDir: root, dataDir: dir }));
    const bus = createMemoryBus({ capacity: 100_000 });
    const anomalies: Anomaly[] = [];
    bus.subscribe<Anomaly>(Topics.anomalies, 'test', async (records) => void anomalies.push(...records.map((r) => r.value)));
    const config = loadConfig({ env: {}, cwd: dir }).config;
    const metrics = createMetricsRegistry({ defaultMetrics: false });
    const runtime = startDetectRuntime({ bus, detectors, detection: { ...config.detection, idleFlushMs: 0 }, logger: silentLogger(), metrics, now: () => T0 + 1e9 });
    const random = seededRandom(7);
    const gauge = (at: number, queue: string, value: number) => normalizeEventInput({
      service: 'svc', kind: 'metric', message: 'queue.depth', timestamp: at,
      attributes: { queue, 'metric.name': 'queue.depth', 'metric.type': 'gauge', 'metric.value': value },
    }, { tenant: 't', now: T0 });
    for (let m = 0; m < 150; m++) {
      const events = Array.from({ length: 20 }, (_, i) => normalizeEventInput({ service: 'svc', timestamp: T0 + m * MIN + i * 3000, latency_ms: 20 + random() * 5, endpoint: '/a' }, { tenant: 't', now: T0 }));
      for (let s = 0; s < 6; s++) {
        const at = T0 + m * MIN + s * 10_000 + 500;
        events.push(gauge(at, 'orders', (m >= 120 ? 350 : 100) + (random() - 0.5) * 10));
        events.push(gauge(at, 'refunds', 40 + (random() - 0.5) * 4));
      }
      await bus.publish(Topics.events, events.map((value) => ({ key: 't/svc', value })));
      await bus.drain();
    }
    await runtime.flush();
    await bus.drain();
    // Series states from both detectors: the metric series are active (judged), with their windows counted.
    const states = runtime.seriesStates('t', 'svc').filter((s) => s.key.includes('queue.depth'));
    expect(states).toHaveLength(4);
    expect(states.every((s) => s.state === 'active' && s.windowsSeen > 140 && s.threshold !== null && s.firstVerdictInMs === 0)).toBe(true);
    // The same per service, as the services API shows it: the request series and both metric series, named.
    const [service] = runtime.serviceStates({ tenant: 't', service: 'svc' });
    expect(service?.state).toBe('active');
    expect(new Set(service!.series.map((x) => `${x.kind} ${x.series}`))).toEqual(new Set(['requests requests', 'metric queue.depth{queue="orders"}', 'metric queue.depth{queue="refunds"}']));
    expect(await metrics.getSingleMetricAsString('helios_detector_first_verdict_seconds')).toMatch(/detector="@helios\/detector-robust-zscore"} 0/);
    expect(await metrics.getSingleMetricAsString('helios_detector_series_state')).toMatch(/detector="@helios\/detector-robust-zscore",state="active"} 2/);
    await runtime.close();
    for (const d of detectors) await d.shutdown();
    await bus.close();

    expect(anomalies).toHaveLength(1);
    const [anomaly] = anomalies;
    expect(anomaly).toMatchObject({ tenant: 't', service: 'svc', metric: { name: 'queue.depth', attributes: { queue: 'orders' } } });
    expect(anomaly!.windowEnd).toBeGreaterThan(T0 + 120 * MIN);
    expect(anomaly!.windowEnd).toBeLessThanOrEqual(T0 + 123 * MIN);
    expect(anomaly!.features).toMatchObject({ points: expect.any(Number), mean: expect.any(Number) });
    expect(anomaly!.explanation[0]!.feature).toMatch(/^(mean|min|max|last|change)$/);
    expect(anomaly!.explanation.find((e) => e.feature === 'last')).toMatchObject({ direction: 'up' });
    expect(anomaly!.severity).toBe('high'); // the latest value more than tripled
    // Request windows and metric windows were judged apart: 2 metric series and 1 request series.
    expect(runtime.metricWindowsEvaluated).toBeGreaterThan(2 * 140);
    expect(runtime.windowsEvaluated - runtime.metricWindowsEvaluated).toBeGreaterThan(140);
    expect(runtime.windowsEvaluated - runtime.metricWindowsEvaluated).toBeLessThan(150);
  }, 60_000);
});
