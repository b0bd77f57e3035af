import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryDetectorState, loadPlugins } from '@helios/plugins';
import type { DetectorStateStore } from '@helios/store';
import { anomalousWindow, testHost, windowSeries } from '@helios/plugins/testing';

const root = resolve(import.meta.dirname, '..', '..', '..');
const load = (dataDir: string, options: Record<string, unknown> = {}, detectorState?: DetectorStateStore) =>
  loadPlugins([{ use: '@helios/detector-robust-zscore', options }], 'detector', testHost({ baseDir: root, dataDir, ...(detectorState === undefined ? {} : { detectorState }) })).then(([d]) => d!);
const newDataDir = () => mkdtempSync(join(tmpdir(), 'helios-rz-'));

describe('robust z-score persistence', () => {
  it('resumes after a restart with the same verdicts instead of a cold start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'helios-rz-'));
    const series = windowSeries(120);
    const before = await load(dataDir);
    for (const w of series.slice(0, 100)) await before.hooks.detect(w);
    await before.shutdown();

    const uninterrupted = await load(mkdtempSync(join(tmpdir(), 'helios-rz-')));
    for (const w of series.slice(0, 100)) await uninterrupted.hooks.detect(w);

    const restarted = await load(dataDir);
    for (const w of series.slice(100)) {
      const resumed = await restarted.hooks.detect(w);
      expect(resumed).toBeDefined(); // no 60-window cold start
      expect(resumed!.score).toBeCloseTo((await uninterrupted.hooks.detect(w))!.score, 9);
    }
    const incident = anomalousWindow('checkout', 'default', series[119]!.end + 60_000);
    expect((await restarted.hooks.detect(incident))!.anomalous).toBe(true);
    await restarted.shutdown();
    await uninterrupted.shutdown();
  });

  it('keeps dependency and log streams apart from the requests in its disk cache, and resumes each', async () => {
    const dataDir = newDataDir();
    // A tenant with a slash: the old `tenant/service` file keys split it at the wrong place.
    const requests = windowSeries(110, 'checkout', 'acme/eu');
    const logs = windowSeries(110, 'checkout', 'acme/eu').map((w) => ({ ...w, stream: { kind: 'logs' as const }, features: { ...w.features, total_events: w.features.total_events / 3 } }));
    const before = await load(dataDir);
    for (let i = 0; i < 100; i++) for (const s of [requests, logs]) await before.hooks.detect(s[i]!);
    await before.shutdown();
    const uninterrupted = await load(newDataDir(), { persist: false });
    for (let i = 0; i < 100; i++) for (const s of [requests, logs]) await uninterrupted.hooks.detect(s[i]!);
    const restarted = await load(dataDir);
    for (let i = 100; i < 110; i++) {
      for (const s of [requests, logs]) {
        const resumed = await restarted.hooks.detect(s[i]!);
        expect(resumed, `${s[i]!.stream?.kind ?? 'requests'} resumed`).toBeDefined();
        expect(resumed!.score).toBeCloseTo((await uninterrupted.hooks.detect(s[i]!))!.score, 9);
      }
    }
    await restarted.shutdown();
    await uninterrupted.shutdown();
  });

  it('starts cold when persistence is off', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'helios-rz-'));
    const first = await load(dataDir, { persist: false });
    for (const w of windowSeries(80)) await first.hooks.detect(w);
    await first.shutdown();
    const second = await load(dataDir, { persist: false });
    expect(await second.hooks.detect(windowSeries(81)[80]!)).toBeUndefined();
    await second.shutdown();
  });

  it('resumes from the store on an empty disk (another worker, a fresh container) with the same verdicts', async () => {
    const shared = createMemoryDetectorState();
    const series = windowSeries(120);
    const first = await load(newDataDir(), {}, shared);
    for (const w of series.slice(0, 100)) await first.hooks.detect(w);
    await first.shutdown();
    const uninterrupted = await load(newDataDir(), { persist: false });
    for (const w of series.slice(0, 100)) await uninterrupted.hooks.detect(w);
    const successor = await load(newDataDir(), {}, shared);
    let asked = 0;
    await successor.hooks.warm!({ tenant: series[0]!.tenant, service: series[0]!.service }, async () => (asked++, []));
    expect(asked).toBe(0); // state found: no history needed
    for (const w of series.slice(100)) {
      const resumed = await successor.hooks.detect(w);
      expect(resumed).toBeDefined();
      expect(resumed!.score).toBeCloseTo((await uninterrupted.hooks.detect(w))!.score, 9);
    }
    await successor.shutdown();
    await uninterrupted.shutdown();
  });

  it('warms a series without saved state from its history and judges its first live window', async () => {
    const series = windowSeries(100);
    const detector = await load(newDataDir(), {}, createMemoryDetectorState());
    await detector.hooks.warm!({ tenant: series[0]!.tenant, service: series[0]!.service }, async () => series.slice(0, 99));
    expect(await detector.hooks.detect(series[99]!)).toBeDefined();
    await detector.shutdown();
  });
});
