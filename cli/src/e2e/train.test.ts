import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeEventBatch, resolveConfig } from '@helios/core';
import { loadPlugin, type DetectorHooks } from '@helios/plugins';
import { testHost, windowSeries } from '@helios/plugins/testing';
import { openStore } from '@helios/store';
import { DEMO_SERVICES, minuteOfTraffic, seededRandom } from '../traffic.js';

const root = resolve(import.meta.dirname, '..', '..', '..');

describe('helios train', () => {
  it('trains per-series models from stored history and writes them where the detector loads them (no cold start)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'helios-train-'));
    const config = resolveConfig({ dataDir });
    const store = await openStore(config);
    const random = seededRandom(3);
    const minutes = 150;
    const start = Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000;
    let stored = 0;
    for (let m = 0; m < minutes; m++) {
      const inputs = DEMO_SERVICES.slice(0, 2).flatMap((profile) => minuteOfTraffic(profile, start + m * 60_000, random));
      stored += await store.insertEvents(normalizeEventBatch(inputs, { tenant: 'default', now: Date.now() }));
    }
    await store.close();

    const run = spawnSync(process.execPath, [join(root, 'cli', 'dist', 'bin', 'helios.js'), 'train', '--json', '--data-dir', dataDir], { encoding: 'utf8', cwd: dataDir, env: { ...process.env, HELIOS_CONFIG: '' } });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { events: number; windows: number; file: string; bytes: number; series: Record<string, { trained: boolean; trainingWindows: number }> };
    expect(result.events).toBe(stored);
    expect(result.windows).toBeGreaterThan(2 * 100);
    expect(Object.keys(result.series).sort()).toEqual(['default/catalog', 'default/checkout']);
    for (const s of Object.values(result.series)) expect(s.trained).toBe(true);
    expect(existsSync(result.file)).toBe(true);
    expect(result.bytes).toBeGreaterThan(0);

    // A detector started on that data dir judges the very first window: the trained model was loaded.
    const detector = await loadPlugin<'detector'>({ use: '@helios/detector-isolation-forest' }, 'detector', 0, testHost({ baseDir: root, dataDir }));
    const first = windowSeries(1, 'checkout', 'default')[0]!;
    const verdict = await (detector.hooks as DetectorHooks).detect({ ...first, end: Date.now(), start: Date.now() - 300_000 });
    expect(verdict).toBeDefined();
    await detector.shutdown();

    // The store has them too: a detect worker on another machine (an empty disk) judges at once as well.
    const reopened = await openStore(config);
    const elsewhere = await loadPlugin<'detector'>({ use: '@helios/detector-isolation-forest' }, 'detector', 0, testHost({ baseDir: root, dataDir: mkdtempSync(join(tmpdir(), 'helios-train-empty-')), detectorState: reopened }));
    expect(await (elsewhere.hooks as DetectorHooks).detect({ ...first, end: Date.now(), start: Date.now() - 300_000 })).toBeDefined();
    await elsewhere.shutdown();
    await reopened.close();
  }, 120_000);
});
