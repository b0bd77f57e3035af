import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEventInput, type HeliosEvent } from '@helios/core';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { rollupWindows } from './rollup-windows.js';
import { WindowAggregator } from './windows.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

describe('windows rebuilt from per-minute rollups', () => {
  let store: Store;
  beforeAll(async () => {
    store = createSqlStore(await createPgliteClient());
    await store.migrate();
  });
  afterAll(() => store.close());

  it('match the live windows exactly in count, error rate and mean latency, and bound the rest', async () => {
    const event = fc.record({
      // The live aggregator's first window starts at the series' first event: events end 3 minutes (the longest
      // window) before the close at minute 13, so every drawn series has at least one closed window to compare.
      at: fc.integer({ min: 0, max: 10 * MIN - 1 }), failing: fc.boolean(), latency: fc.integer({ min: 1, max: 5000 }),
      rate: fc.constantFrom(1, 1, 2, 5), endpoint: fc.constantFrom('/a', '/b', '/c', '/d'),
    });
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 300 }), fc.constantFrom(1, 2, 3), async (drawn, windowMinutes) => {
      const service = `svc-${run++}`;
      const events: HeliosEvent[] = drawn.map((e) => normalizeEventInput({
        service, timestamp: T0 + e.at, latency_ms: e.latency, sample_rate: e.rate, endpoint: e.endpoint, ...(e.failing ? { level: 'ERROR' } : {}),
      }, { tenant: 't', now: T0 }));
      await store.insertEvents(events);
      await store.maintain({ now: T0 + 13 * MIN });
      const windowMs = windowMinutes * MIN;
      const live = new WindowAggregator({ windowMs, hopMs: MIN, allowedLatenessMs: 0 });
      for (const e of [...events].sort((a, b) => a.timestamp - b.timestamp)) live.add(e, T0 + 1e9);
      const liveWindows = live.closeUpTo(T0 + 13 * MIN);
      const rebuilt = rollupWindows(await store.rollups({ tenant: 't', service, from: T0 - windowMs, to: T0 + 13 * MIN }), { windowMs, hopMs: MIN }, { tenant: 't', service, from: T0 - windowMs, to: T0 + 13 * MIN });
      const byEnd = new Map(rebuilt.map((w) => [w.end, w]));
      expect(liveWindows.length).toBeGreaterThan(0);
      for (const w of liveWindows) {
        const r = byEnd.get(w.end);
        expect(r, `a rebuilt window ending at minute ${(w.end - T0) / MIN}`).toBeDefined();
        expect(r!.features.total_events).toBeCloseTo(w.features.total_events, 6);
        expect(r!.features.error_rate).toBeCloseTo(w.features.error_rate, 9);
        expect(r!.features.avg_latency).toBeCloseTo(w.features.avg_latency, 3);
        expect(r!.features.unique_endpoints).toBeLessThanOrEqual(w.features.unique_endpoints);
        const inWindow = events.filter((e) => e.timestamp >= w.start && e.timestamp < w.end).map((e) => e.latency_ms!);
        if (inWindow.length > 0) {
          expect(r!.features.unique_endpoints).toBeGreaterThan(0);
          for (const p of [r!.features.p95_latency, r!.features.p99_latency]) {
            expect(p).toBeGreaterThanOrEqual(Math.min(...inWindow) - 1e-6);
            expect(p).toBeLessThanOrEqual(Math.max(...inWindow) + 1e-6);
          }
        }
        expect(r!.latest === undefined).toBe(w.latest === undefined);
        if (r!.latest !== undefined) expect(r!.latest.total_events).toBeCloseTo(w.latest!.total_events, 6);
      }
    }), { numRuns: 8 });
  }, 120_000);

  it('are none when the window or hop is not whole minutes (rollups cannot be cut finer)', () => {
    const minute = { minute: T0, tenant: 't', service: 's', events: 1, levels: { TRACE: 0, DEBUG: 0, INFO: 1, WARN: 0, ERROR: 0, CRITICAL: 0 }, errors: 0, latencyAvgMs: 1, latencyP50Ms: 1, latencyP95Ms: 1, latencyP99Ms: 1, latencyMaxMs: 1, uniqueEndpoints: 1 };
    expect(rollupWindows([minute], { windowMs: 90_000, hopMs: 30_000 }, { tenant: 't', service: 's', from: T0, to: T0 + 10 * MIN })).toEqual([]);
    expect(rollupWindows([minute], { windowMs: 2 * MIN, hopMs: MIN }, { tenant: 't', service: 's', from: T0, to: T0 + 10 * MIN }).length).toBeGreaterThan(0);
  });
});
