import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Topics, createMemoryBus, createMetricsRegistry, loadConfig, normalizeEventInput, silentLogger, type Anomaly, type Detection, type FeatureWindow, type HeliosConfig } from '@helios/core';
import { createIncidentTracker, startDetectRuntime, type Verdict } from './detect-runtime.js';
import { loadPlugins } from './loader.js';
import { anomalousWindow, testHost, windowSeries } from './testing/fixtures.js';

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

async function runWithSilence(detection: Partial<HeliosConfig['detection']>, mark?: (rt: ReturnType<typeof startDetectRuntime>) => void): Promise<Anomaly[]> {
  const dir = mkdtempSync(join(tmpdir(), 'helios-gap-'));
  writeFileSync(join(dir, 'low-traffic.mjs'), LOW_TRAFFIC_PLUGIN);
  const detectors = await loadPlugins([{ use: './low-traffic.mjs' }], 'detector', testHost({ baseDir: dir, dataDir: dir }));
  const bus = createMemoryBus({ capacity: 100_000 });
  const anomalies: Anomaly[] = [];
  bus.subscribe<Anomaly>(Topics.anomalies, 'test', async (records) => void anomalies.push(...records.map((r) => r.value)));
  const config = loadConfig({ env: {}, cwd: dir }).config;
  const runtime = startDetectRuntime({ bus, detectors, detection: { ...config.detection, idleFlushMs: 0, ...detection }, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }), now: () => T0 + 1e9 });
  mark?.(runtime);
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
