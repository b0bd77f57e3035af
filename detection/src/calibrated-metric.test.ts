import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom, type HeliosEvent } from '@helios/core';
import { CalibratedMetricSeries, DEFAULT_CALIBRATION } from '@helios/plugins/stats';
import { createIncidentTracker } from './detect-runtime.js';
import { WindowAggregator, type ClosedWindow } from './windows.js';
import type { ClosedMetricWindow } from './metric-windows.js';

/**
 * The calibrated metric judge through the production windows and alert hygiene: metric points -> 5-minute
 * windows closing every minute -> CalibratedMetricSeries -> createIncidentTracker, as the detect runtime runs them.
 */

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const WEEK = 7 * DAY;
const T0 = Date.UTC(2026, 0, 5);

function point(at: number, value: number): HeliosEvent {
  return {
    id: '', timestamp: at, service: 'svc', level: 'INFO', message: 'm', kind: 'metric', endpoint: null, latency_ms: null, status_code: null, error_code: null,
    trace_id: null, span_id: null, sample_rate: 1, attributes: { 'metric.name': 'm', 'metric.type': 'gauge', 'metric.value': value }, resource: {}, tenant: 't',
  };
}

interface Run {
  incidents: number[];
  verdicts: Array<{ end: number; anomalous: boolean }>;
  incomplete: number;
  windows: number;
}

/** Stream `value(t)` at `cadenceMs` for `durationMs` and count incidents opened (their window ends). */
function stream(value: (t: number) => number, cadenceMs: number, durationMs: number, options: { gapAfterMs?: number; falseAlertsPerWeek?: number } = {}): Run {
  const aggregator = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 0, gapAfterMs: options.gapAfterMs ?? 0 });
  const tracker = createIncidentTracker({ vote: 'any', confirmWindows: 2, resolveAfterWindows: 3, immediateRatio: 2 });
  const judge = new CalibratedMetricSeries({ ...DEFAULT_CALIBRATION, falseAlertsPerWeek: options.falseAlertsPerWeek ?? 1 }, 'test', { tenant: 't', service: 'svc' });
  const run: Run = { incidents: [], verdicts: [], incomplete: 0, windows: 0 };
  let next = T0;
  const closed: ClosedMetricWindow[] = [];
  for (let minute = T0; minute < T0 + durationMs; minute += MIN) {
    while (next < minute + MIN) {
      aggregator.add(point(next, value(next)), next);
      next += cadenceMs;
    }
    closed.length = 0;
    const requests: ClosedWindow[] = aggregator.closeUpTo(minute + MIN, closed);
    expect(requests).toEqual([]);
    for (const w of closed) {
      run.windows++;
      if (w.incomplete === true) {
        run.incomplete++;
        continue;
      }
      const detection = judge.observe(w);
      if (detection !== undefined) run.verdicts.push({ end: w.end, anomalous: detection.anomalous });
      const step = tracker.observe(w, detection === undefined ? [] : [{ detector: 'test', detection }]);
      if (step?.opened !== undefined) run.incidents.push(w.end);
    }
  }
  return run;
}

const CADENCES = [10_000, 60_000, 300_000, 3_600_000];

describe('calibrated metric judge on normal series (the false-alarm rate by design)', () => {
  it('raises at most the configured rate of incidents on flat, constant, pure seasonal and pure noise series at any cadence', () => {
    let incidents = 0;
    let weeks = 0;
    fc.assert(fc.property(
      fc.constantFrom('flat', 'constant-integer', 'seasonal', 'noise', 'seasonal-noise'),
      fc.constantFrom(...CADENCES),
      fc.double({ min: -3, max: 4, noNaN: true }),
      fc.integer({ min: 1, max: 1_000_000 }),
      (shape, cadenceMs, logLevel, seed) => {
        const level = 10 ** logLevel;
        const random = seededRandom(seed);
        const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
        const amplitude = level * 0.5;
        const value = (t: number): number => {
          const daily = Math.sin((2 * Math.PI * (t - T0)) / DAY);
          if (shape === 'flat') return level;
          if (shape === 'constant-integer') return Math.round(level) + 3;
          if (shape === 'seasonal') return level + amplitude * daily;
          if (shape === 'noise') return level + level * 0.1 * gaussian();
          return level + amplitude * daily + level * 0.05 * gaussian();
        };
        const days = cadenceMs >= 3_600_000 ? 6 : 2;
        const run = stream(value, cadenceMs, days * DAY);
        incidents += run.incidents.length;
        weeks += (days * DAY) / WEEK;
        // One run is a couple of days at a rate of one a week: more than one incident is not sampling noise.
        expect(run.incidents.length, `${shape} every ${cadenceMs / 1000} s at ${level}: incidents at ${run.incidents.map((t) => new Date(t).toISOString()).join(', ')}`).toBeLessThanOrEqual(1);
      },
    ), { numRuns: 24, seed: 22 });
    // Over all runs: the configured rate (1 per series-week), with room for Poisson noise on a few weeks.
    expect(incidents).toBeLessThanOrEqual(Math.ceil(weeks + 2 * Math.sqrt(weeks)));
  });

  it('gives a new one-minute series its first verdict within 10 minutes', () => {
    const random = seededRandom(3);
    const run = stream(() => 50 + random(), MIN, 30 * MIN);
    expect(run.verdicts.length).toBeGreaterThan(0);
    expect(run.verdicts[0]!.end - T0).toBeLessThanOrEqual(10 * MIN);
  });

  it('judges each point of a 5-minute series once (five overlapping windows hold it), so one point does not confirm itself', () => {
    const random = seededRandom(4);
    const run = stream(() => 100 + random() * 5, 5 * MIN, DAY);
    // One verdict per point, not per window.
    expect(run.verdicts.length).toBeGreaterThan(250);
    expect(run.verdicts.length).toBeLessThanOrEqual(DAY / (5 * MIN));
    expect(run.windows).toBeGreaterThan(1400);
  });

  it('calls a level shift at once, keeps one incident for the episode, and adopts the new normal after adoptAfterMinutes', () => {
    const random = seededRandom(5);
    const shiftAt = T0 + DAY / 2;
    const run = stream((t) => (t >= shiftAt ? 200 : 100) + random() * 4, MIN, DAY);
    expect(run.incidents).toHaveLength(1);
    expect(run.incidents[0]! - shiftAt).toBeLessThanOrEqual(3 * MIN);
    // Bounded: verdicts are normal again within the adoption time (plus the windows still holding old points).
    const after = run.verdicts.filter((v) => v.end > shiftAt + DEFAULT_CALIBRATION.adoptAfterMs + 10 * MIN);
    expect(after.length).toBeGreaterThan(100);
    expect(after.filter((v) => v.anomalous)).toEqual([]);
  });

  it('alerts on a series stuck at one value where it used to move', () => {
    const random = seededRandom(6);
    const stuckAt = T0 + DAY / 2;
    const run = stream((t) => (t >= stuckAt && t < stuckAt + 60 * MIN ? 42 : 40 + random() * 5), MIN, DAY);
    expect(run.incidents.some((t) => t >= stuckAt && t <= stuckAt + 15 * MIN)).toBe(true);
  });

  it('does not take the silence between the points of a sparse series for lost telemetry (the gap rule follows the cadence)', () => {
    const run = stream(() => 7, 5 * MIN, 6 * 60 * MIN, { gapAfterMs: 180_000 });
    // Only the windows before the cadence is known (the second point) may be marked.
    expect(run.incomplete).toBeLessThanOrEqual(5);
    expect(run.windows).toBeGreaterThan(300);
  });
});
