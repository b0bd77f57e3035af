import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryDetectorState, loadPlugins } from '@helios/plugins';
import type { DetectorStateStore } from '@helios/store';
import { anomalousWindow, testHost, windowSeries } from '@helios/plugins/testing';

const root = resolve(import.meta.dirname, '..', '..', '..');
const load = (dataDir: string, options: Record<string, unknown> = {}, detectorState?: DetectorStateStore) =>
  loadPlugins([{ use: '@helios/detector-isolation-forest', options }], 'detector', testHost({ baseDir: root, dataDir, ...(detectorState === undefined ? {} : { detectorState }) })).then(([d]) => d!);
const newDataDir = () => mkdtempSync(join(tmpdir(), 'helios-if-'));

describe('isolation forest persistence', () => {
  it('resumes after a restart with the same verdicts instead of a cold start', async () => {
    const dataDir = newDataDir();
    const series = windowSeries(160);
    const before = await load(dataDir);
    for (const w of series.slice(0, 125)) await before.hooks.detect(w);
    await before.shutdown();

    const uninterrupted = await load(newDataDir());
    for (const w of series.slice(0, 125)) await uninterrupted.hooks.detect(w);

    const restarted = await load(dataDir);
    for (const w of series.slice(125)) {
      const resumed = await restarted.hooks.detect(w);
      expect(resumed).toBeDefined(); // no 60-window cold start
      const expected = (await uninterrupted.hooks.detect(w))!;
      expect(resumed!.score).toBeCloseTo(expected.score, 9);
      expect(resumed!.modelVersion).toBe(expected.modelVersion);
    }
    const incident = anomalousWindow('checkout', 'default', series[159]!.end + 60_000);
    expect((await restarted.hooks.detect(incident))!.anomalous).toBe(true);
    await restarted.shutdown();
    await uninterrupted.shutdown();
  });

  it('keeps dependency and log streams apart from the requests in its disk cache, and resumes each', async () => {
    const dataDir = newDataDir();
    // A tenant with a slash: the old `tenant/service` file keys split it at the wrong place.
    const requests = windowSeries(130, 'checkout', 'acme/eu');
    const logs = windowSeries(130, 'checkout', 'acme/eu').map((w) => ({ ...w, stream: { kind: 'logs' as const }, features: { ...w.features, total_events: w.features.total_events / 3 } }));
    const calls = windowSeries(130, 'checkout', 'acme/eu').map((w) => ({ ...w, stream: { kind: 'dependency' as const, peer: 'inventory' }, features: { ...w.features, avg_latency: w.features.avg_latency / 4 } }));
    const before = await load(dataDir);
    for (let i = 0; i < 125; i++) for (const s of [requests, logs, calls]) await before.hooks.detect(s[i]!);
    await before.shutdown();
    const uninterrupted = await load(newDataDir(), { persist: false });
    for (let i = 0; i < 125; i++) for (const s of [requests, logs, calls]) await uninterrupted.hooks.detect(s[i]!);
    // A fresh store (in memory, empty): only the disk cache knows the series.
    const restarted = await load(dataDir);
    for (let i = 125; i < 130; i++) {
      for (const s of [requests, logs, calls]) {
        const resumed = await restarted.hooks.detect(s[i]!);
        expect(resumed, `${s[i]!.stream?.kind ?? 'requests'} resumed`).toBeDefined();
        expect(resumed!.score).toBeCloseTo((await uninterrupted.hooks.detect(s[i]!))!.score, 9);
      }
    }
    await restarted.shutdown();
    await uninterrupted.shutdown();
  });

  it('starts cold when persistence is off', async () => {
    const dataDir = newDataDir();
    const first = await load(dataDir, { persist: false });
    for (const w of windowSeries(80)) await first.hooks.detect(w);
    await first.shutdown();
    const second = await load(dataDir, { persist: false });
    expect(await second.hooks.detect(windowSeries(81)[80]!)).toBeUndefined();
    await second.shutdown();
  });

  it('explains in terms of the seven named features, shares summing to 1', async () => {
    const detector = await load(newDataDir(), { persist: false });
    const series = windowSeries(100);
    for (const w of series) await detector.hooks.detect(w);
    const verdict = (await detector.hooks.detect(anomalousWindow('checkout', 'default', series[99]!.end + 60_000)))!;
    expect(verdict.explanation.map((e) => e.feature).sort()).toEqual(['avg_latency', 'error_rate', 'latency_stddev', 'p95_latency', 'p99_latency', 'total_events', 'unique_endpoints']);
    expect(verdict.explanation.reduce((a, e) => a + e.contribution, 0)).toBeCloseTo(1, 9);
    await detector.shutdown();
  });

  it('resumes from the store on an empty disk (another worker, a fresh container) with the same verdicts', async () => {
    const shared = createMemoryDetectorState();
    const series = windowSeries(150);
    const first = await load(newDataDir(), {}, shared);
    for (const w of series.slice(0, 120)) await first.hooks.detect(w);
    await first.shutdown();
    const uninterrupted = await load(newDataDir(), { persist: false });
    for (const w of series.slice(0, 120)) await uninterrupted.hooks.detect(w);

    const successor = await load(newDataDir(), {}, shared);
    for (const w of series.slice(120)) {
      const resumed = await successor.hooks.detect(w);
      expect(resumed).toBeDefined();
      expect(resumed!.score).toBeCloseTo((await uninterrupted.hooks.detect(w))!.score, 9);
    }
    await successor.shutdown();
    await uninterrupted.shutdown();
  });

  it('warms a series without saved state from its history, and judges its first live window', async () => {
    const series = windowSeries(100);
    const detector = await load(newDataDir(), {}, createMemoryDetectorState());
    let asked = 0;
    await detector.hooks.warm!({ tenant: series[0]!.tenant, service: series[0]!.service }, async () => (asked++, series.slice(0, 99)));
    expect(asked).toBe(1);
    expect(await detector.hooks.detect(series[99]!)).toBeDefined();
    await detector.shutdown();
  });

  it('does not ask for history when the store has the series\u2019 state', async () => {
    const shared = createMemoryDetectorState();
    const series = windowSeries(100);
    const first = await load(newDataDir(), {}, shared);
    for (const w of series.slice(0, 99)) await first.hooks.detect(w);
    await first.shutdown();
    const successor = await load(newDataDir(), {}, shared);
    let asked = 0;
    await successor.hooks.warm!({ tenant: series[0]!.tenant, service: series[0]!.service }, async () => (asked++, []));
    expect(asked).toBe(0);
    expect(await successor.hooks.detect(series[99]!)).toBeDefined();
    await successor.shutdown();
  });
});
