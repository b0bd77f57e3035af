import { resolve } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPlugins, type DetectorHooks, type LoadedPlugin } from '@helios/plugins';
import { errorCountSeries, testHost } from '@helios/plugins/testing';
import { createIncidentTracker, type Verdict } from './detect-runtime.js';

/**
 * Low-count error rates (a service whose few errors leave most windows at zero): both built-in detectors,
 * voting `any` through the runtime's alert hygiene, as in cli/src/e2e/trace-shapes.test.ts where the robust
 * z-score raised two false alarms on 2 errors in ~150 requests against a zero-error baseline.
 */

const root = resolve(import.meta.dirname, '..', '..');
const DETECTORS = ['@helios/detector-isolation-forest', '@helios/detector-robust-zscore'];

async function loadBoth(): Promise<Array<LoadedPlugin<DetectorHooks>>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'helios-low-count-'));
  return loadPlugins(DETECTORS.map((use) => ({ use, options: { persist: false } })), 'detector', testHost({ baseDir: root, dataDir }));
}

/** Windows judged anomalous (by detector) and incidents opened. */
async function run(windows: ReturnType<typeof errorCountSeries>): Promise<{ anomalous: string[]; opened: number }> {
  const detectors = await loadBoth();
  const tracker = createIncidentTracker({ vote: 'any', confirmWindows: 2, resolveAfterWindows: 3, immediateRatio: 2 });
  const anomalous: string[] = [];
  let opened = 0;
  try {
    for (const w of windows) {
      const verdicts: Verdict[] = [];
      for (const d of detectors) {
        const detection = await d.hooks.detect(w);
        if (detection === undefined) continue;
        verdicts.push({ detector: d.name, detection });
        if (detection.anomalous) anomalous.push(`${d.name} at window ${(w.end - windows[0]!.end) / 60_000}: ${Math.round(w.features.error_rate * w.features.total_events)} errors in ${w.features.total_events}`);
      }
      if (tracker.observe(w, verdicts)?.opened !== undefined) opened++;
    }
  } finally {
    for (const d of detectors) await d.shutdown();
  }
  return { anomalous, opened };
}

describe('low-count error rates', () => {
  it('a series whose error count stays within what its baseline rate makes likely never alerts', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.constantFrom(0, 0.001, 0.003, 0.01, 0.03, 0.08),
      fc.integer({ min: 15, max: 600 }),
      async (seed, errorRate, eventsPerWindow) => {
        const { anomalous, opened } = await run(errorCountSeries({ seed, errorRate, eventsPerWindow, windows: 240 }));
        expect(anomalous).toEqual([]);
        expect(opened).toBe(0);
      },
    ), { numRuns: 12 });
  }, 120_000);

  it('the neighbour of the trace-shapes e2e: 2 errors in ~150 requests at 0.3 % stay quiet, a burst to 10 % does not', async () => {
    const windows = errorCountSeries({ seed: 5, errorRate: 0.003, eventsPerWindow: 150, windows: 200 });
    expect(windows.some((w) => Math.round(w.features.error_rate * w.features.total_events) >= 2)).toBe(true);
    expect((await run(windows)).opened).toBe(0);
    const burst = errorCountSeries({ seed: 5, errorRate: 0.003, eventsPerWindow: 150, windows: 200 }).map((w, i) => (i < 190 ? w : { ...w, features: { ...w.features, error_rate: 0.1 }, latest: { ...w.latest!, error_rate: 0.1 } }));
    expect((await run(burst)).opened).toBe(1);
  }, 60_000);
});
