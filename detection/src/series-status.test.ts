import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { featureSeriesKey, metricSeriesName, seriesKey, seriesOfKey, silentLogger, type FeatureStream } from '@helios/core';
import type { DetectorSeriesState } from '@helios/plugins';
import { createPgliteClient, createSqlStore } from '@helios/store';
import { createSeriesStatusSaver, serviceStatuses } from './series-status.js';

const name = fc.string({ minLength: 1, maxLength: 12 });
const stream: fc.Arbitrary<FeatureStream | undefined> = fc.oneof(fc.constant(undefined), fc.constant({ kind: 'logs' as const }), name.map((peer) => ({ kind: 'dependency' as const, peer })));

describe('seriesOfKey', () => {
  it('names the series of any seriesKey or featureSeriesKey: requests, a dependency, logs or a metric series', () => {
    fc.assert(fc.property(name, name, stream, (tenant, service, s) => {
      const want = s === undefined ? { kind: 'requests', series: 'requests' } : s.kind === 'logs' ? { kind: 'logs', series: 'logs' } : { kind: 'dependency', series: `dependency:${s.peer}`, peer: s.peer };
      expect(seriesOfKey(seriesKey({ tenant, service, stream: s }), tenant, service)).toEqual(want);
      // Keys with a slash in the tenant or service are not told apart by featureSeriesKey alone: the prefix is.
      expect(seriesOfKey(featureSeriesKey({ tenant, service, stream: s }), tenant, service)).toEqual(want);
    }));
    const metric = { name: 'queue.depth', attributes: { queue: 'q1' } };
    expect(seriesOfKey(seriesKey({ tenant: 't', service: 's', metric }), 't', 's')).toEqual({ kind: 'metric', series: metricSeriesName(metric) });
  });
});

const state = (tenant: string, service: string, key: string, s: Partial<DetectorSeriesState> = {}): DetectorSeriesState & { detector: string } =>
  ({ detector: 'det', key, tenant, service, state: 'learning', windowsSeen: 3, threshold: null, firstVerdictInMs: 57 * 60_000, ...s });

describe('series status of the detect runtime', () => {
  it('groups series per (tenant, service): active when any series is, learning series with their time to a first verdict', () => {
    const states = [
      state('b', 'checkout', seriesKey({ tenant: 'b', service: 'checkout' }), { state: 'active', windowsSeen: 80, threshold: 0.6, firstVerdictInMs: 0 }),
      state('b', 'checkout', seriesKey({ tenant: 'b', service: 'checkout', stream: { kind: 'dependency', peer: 'db' } })),
      state('a', 'checkout', seriesKey({ tenant: 'a', service: 'checkout' }), { firstVerdictInMs: undefined }),
    ];
    expect(serviceStatuses(states, 5)).toEqual([
      { tenant: 'a', service: 'checkout', updatedAt: 5, state: 'learning', series: [{ detector: 'det', kind: 'requests', series: 'requests', state: 'learning', windowsSeen: 3, threshold: null, firstVerdictInMs: null }] },
      {
        tenant: 'b', service: 'checkout', updatedAt: 5, state: 'active', series: [
          { detector: 'det', kind: 'dependency', series: 'dependency:db', peer: 'db', state: 'learning', windowsSeen: 3, threshold: null, firstVerdictInMs: 57 * 60_000 },
          { detector: 'det', kind: 'requests', series: 'requests', state: 'active', windowsSeen: 80, threshold: 0.6, firstVerdictInMs: 0 },
        ],
      },
    ]);
  });

  it('saves them to the store, where another process reads them per tenant and service; unchanged ones are not rewritten', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    try {
      let states = [state('a', 'svc\\x', seriesKey({ tenant: 'a', service: 'svc\\x' })), state('b', 'svc\\x', seriesKey({ tenant: 'b', service: 'svc\\x' }), { state: 'active', firstVerdictInMs: 0 })];
      let now = 1000;
      const writes: number[] = [];
      const counting = { ...store, putDetectorStates: async (...args: Parameters<typeof store.putDetectorStates>) => { writes.push(args[1].length); return store.putDetectorStates(...args); } };
      const saver = createSeriesStatusSaver({ store: counting, states: () => states, now: () => now, logger: silentLogger(), intervalMs: 3_600_000 });
      await saver.save();
      expect(await store.detectorSeriesStates({ tenant: 'a' })).toEqual(serviceStatuses(states.slice(0, 1), 1000));
      expect(await store.detectorSeriesStates({ tenant: 'b', service: 'svc\\x' })).toEqual(serviceStatuses(states.slice(1), 1000));
      expect(await store.detectorSeriesStates({ tenant: 'b', service: 'other' })).toEqual([]);
      expect(await store.detectorSeriesStates({})).toHaveLength(2);
      now = 2000;
      await saver.save(); // nothing changed
      states = [{ ...states[0]!, windowsSeen: 4 }, states[1]!];
      await saver.close(); // a's changed
      expect(writes).toEqual([2, 1]);
      expect((await store.detectorSeriesStates({ tenant: 'a' }))[0]).toMatchObject({ updatedAt: 2000, series: [{ windowsSeen: 4 }] });
    } finally {
      await store.close();
    }
  });
});

describe('time to the first verdict', () => {
  it('counts down while a metric series learns, one cadence per missing observation, and is 0 once it is judged', async () => {
    const { CalibratedMetricSeries, DEFAULT_CALIBRATION } = await import('@helios/plugins/stats');
    const { metricWindowSeries } = await import('@helios/plugins/testing');
    const windows = metricWindowSeries(40);
    const judge = new CalibratedMetricSeries(DEFAULT_CALIBRATION, 'test', windows[0]!);
    const seen: Array<{ state: string; firstVerdictInMs: number }> = [];
    for (const w of windows) {
      judge.observe(w);
      seen.push(judge.state());
    }
    const learning = seen.filter((s) => s.state === 'learning');
    expect(learning.length).toBeGreaterThan(0);
    // Minute windows: each learning step is a whole number of minutes, never increasing, never 0.
    for (const [i, s] of learning.entries()) {
      expect(s.firstVerdictInMs % 60_000).toBe(0);
      expect(s.firstVerdictInMs).toBeGreaterThan(0);
      if (i > 0) expect(s.firstVerdictInMs).toBeLessThanOrEqual(learning[i - 1]!.firstVerdictInMs);
    }
    expect(learning[0]!.firstVerdictInMs).toBeLessThanOrEqual(DEFAULT_CALIBRATION.minObservations * 60_000);
    expect(seen.at(-1)).toMatchObject({ state: 'active', firstVerdictInMs: 0 });
  });
});
