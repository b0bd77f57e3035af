import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlugins } from '@helios/plugins';
import { anomalousWindow, testHost, windowSeries } from '@helios/plugins/testing';

const root = resolve(import.meta.dirname, '..', '..', '..');
const load = (dataDir: string, options: Record<string, unknown> = {}) =>
  loadPlugins([{ use: '@helios/detector-robust-zscore', options }], 'detector', testHost({ baseDir: root, dataDir })).then(([d]) => d!);

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

  it('starts cold when persistence is off', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'helios-rz-'));
    const first = await load(dataDir, { persist: false });
    for (const w of windowSeries(80)) await first.hooks.detect(w);
    await first.shutdown();
    const second = await load(dataDir, { persist: false });
    expect(await second.hooks.detect(windowSeries(81)[80]!)).toBeUndefined();
    await second.shutdown();
  });
});
