import { describe, expect, it } from 'vitest';
import { normalizeEventInput } from '@helios/core';
import { WindowAggregator } from './windows.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const ev = (minute: number, fields: Record<string, unknown> = {}, service = 'svc') =>
  normalizeEventInput({ service, timestamp: T0 + minute * MIN + 1000, latency_ms: 10, endpoint: '/a', ...fields }, { tenant: 't', now: T0 });

describe('WindowAggregator', () => {
  it('computes the seven features over sliding windows and closes them after the allowed lateness', () => {
    const agg = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 10_000 });
    const now = T0 + 3_600_000;
    for (let m = 0; m < 5; m++) for (let i = 0; i < 10; i++) agg.add(ev(m, { latency_ms: m === 4 ? 100 : 10, level: i < m ? 'ERROR' : 'INFO', endpoint: `/e${m}` }), now);
    expect(agg.closeReady()).toEqual([]); // watermark still inside the first window
    agg.add(ev(5, {}, 'other'), now);
    agg.add(ev(5.2, {}, 'other'), now);
    const [w] = agg.closeReady();
    expect(w).toMatchObject({ service: 'svc', start: T0, end: T0 + 5 * MIN });
    expect(w!.features.total_events).toBe(50);
    expect(w!.features.error_rate).toBeCloseTo((0 + 1 + 2 + 3 + 4) / 50);
    expect(w!.features.avg_latency).toBeCloseTo((40 * 10 + 10 * 100) / 50);
    expect(w!.features.unique_endpoints).toBe(5);
    expect(w!.features.p99_latency).toBe(100);
    expect(w!.features.p95_latency).toBe(100);
    expect(w!.features.latency_stddev).toBeCloseTo(35.1, 1); // 1%-trimmed: one 10 and one 100 left out
  });

  it('also gives the features of the newest hop bucket alone, where a fresh change is undiluted', () => {
    const agg = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    for (let m = 0; m < 5; m++) for (let i = 0; i < (m === 4 ? 2 : 10); i++) agg.add(ev(m, { level: m === 4 && i === 0 ? 'ERROR' : 'INFO', latency_ms: m === 4 ? 50 : 10 }), T0 + 1e9);
    agg.add(ev(6, {}, 'other'), T0 + 1e9);
    const [w, next] = agg.closeReady().filter((x) => x.service === 'svc');
    expect(w!.features.total_events).toBe(42);
    expect(w!.latest).toMatchObject({ total_events: 2, error_rate: 0.5, avg_latency: 50, unique_endpoints: 1 });
    // An empty newest minute (a service gone silent) is a bucket of zeros, not a missing one.
    expect(next!.latest).toMatchObject({ total_events: 0, error_rate: 0 });
    // A window of a single hop has nothing newer than itself.
    const single = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0 });
    single.add(ev(0), T0 + 1e9);
    single.add(ev(2), T0 + 1e9);
    expect(single.closeReady()[0]!.latest).toBeUndefined();
  });

  it('keeps yielding windows for a service that went silent, so a traffic drop is seen', () => {
    const agg = new WindowAggregator({ windowMs: 2 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    for (let m = 0; m < 3; m++) agg.add(ev(m), T0 + 1e9);
    for (let m = 3; m < 8; m++) agg.add(ev(m, {}, 'busy'), T0 + 1e9);
    const quiet = agg.closeReady().filter((w) => w.service === 'svc');
    expect(quiet.map((w) => w.features.total_events)).toEqual([2, 2, 1, 0, 0, 0]);
  });

  it('counts events too late for any open window instead of corrupting closed ones', () => {
    const agg = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0 });
    agg.add(ev(0), T0 + 1e9);
    agg.add(ev(3), T0 + 1e9);
    expect(agg.closeReady().length).toBeGreaterThan(0);
    agg.add(ev(0.5), T0 + 1e9);
    expect(agg.lateEvents).toBe(1);
  });

  it('does not let a client clock in the far future close everyone\u2019s windows', () => {
    const agg = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0 });
    agg.add(ev(0), T0);
    agg.add(ev(60 * 24 * 365), T0); // a year ahead of "now"
    expect(agg.watermark).toBeLessThanOrEqual(T0 + 60_000);
  });

  it('keeps a gap that arrives before the events it concerns (a gap record from another process), across closes', () => {
    const agg = new WindowAggregator({ windowMs: 2 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    agg.markGap({ from: T0 + 2 * MIN, to: T0 + 2 * MIN + 1 });
    expect(agg.closeUpTo(T0 + 10 * MIN)).toEqual([]); // an idle flush with no series yet
    expect(agg.openGaps).toHaveLength(1);
    for (let m = 0; m < 5; m++) agg.add(ev(m), T0 + 1e9);
    const closed = agg.closeUpTo(T0 + 5 * MIN);
    expect(closed.map((w) => [(w.end - T0) / MIN, w.incomplete === true])).toEqual([[2, false], [3, true], [4, true], [5, false]]);
  });

  it('drops at once a gap too old to touch any open window (a long gap history read from the start)', () => {
    const agg = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    for (let m = 0; m < 30; m++) agg.add(ev(m), T0 + 1e9);
    agg.closeReady();
    agg.markGap({ from: T0 + 10 * MIN, to: T0 + 20 * MIN }); // every window overlapping it has closed
    expect(agg.openGaps).toHaveLength(0);
    agg.markGap({ from: T0 + 20 * MIN, to: T0 + 26 * MIN }); // still touches the open window [25, 30)
    expect(agg.openGaps).toHaveLength(1);
  });

  it('refuses a window that is not a multiple of the hop', () => {
    expect(() => new WindowAggregator({ windowMs: 90_000, hopMs: MIN, allowedLatenessMs: 0 })).toThrow(/multiple/);
  });
});
