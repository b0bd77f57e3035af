import { describe, expect, it } from 'vitest';
import { normalizeEventInput } from '@helios/core';
import { WindowAggregator, weightedQuantiles } from './windows.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const ev = (second: number, fields: Record<string, unknown>) =>
  normalizeEventInput({ service: 'svc', timestamp: T0 + second * 1000, endpoint: '/a', ...fields }, { tenant: 't', now: T0 });

function closeFirst(agg: WindowAggregator) {
  agg.add(ev(5 * 60 + 1, { service: 'svc' }), T0 + 1e9);
  return agg.closeReady().find((w) => w.start === T0)!;
}

describe('WindowAggregator with sampled events (sample_rate)', () => {
  it('counts what sampled events stand for: 1000 requests sent as 40 events of rate 25 plus 3 unsampled errors', () => {
    const agg = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    for (let i = 0; i < 40; i++) agg.add(ev(i, { latency_ms: 10, status_code: 200, sample_rate: 25 }), T0 + 1e9);
    for (let i = 0; i < 3; i++) agg.add(ev(100 + i, { latency_ms: 900, status_code: 503, level: 'ERROR' }), T0 + 1e9);
    const w = closeFirst(agg);
    expect(w.features.total_events).toBe(1003);
    expect(w.features.error_rate).toBeCloseTo(3 / 1003, 10);
    expect(w.features.avg_latency).toBeCloseTo((1000 * 10 + 3 * 900) / 1003, 10);
    // Unweighted, 3 of 43 events (7%) would be 900 ms and p95 would be 900; weighted they are 0.3%.
    expect(w.features.p95_latency).toBe(10);
    expect(w.features.p99_latency).toBe(10);
  });

  it('weights the latency distribution: a slow, heavily sampled route dominates the percentiles', () => {
    const agg = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    // 20 kept events at rate 50 (1000 slow requests) and 100 unsampled fast ones.
    for (let i = 0; i < 20; i++) agg.add(ev(i, { latency_ms: 300, sample_rate: 50 }), T0 + 1e9);
    for (let i = 0; i < 100; i++) agg.add(ev(i, { latency_ms: 5 }), T0 + 1e9);
    const w = closeFirst(agg);
    expect(w.features.total_events).toBe(1100);
    expect(w.features.p95_latency).toBe(300);
    expect(w.features.avg_latency).toBeCloseTo((1000 * 300 + 100 * 5) / 1100, 10);
  });

  it('weightedQuantiles: equal weights give the sorted samples; weights move the quantiles', () => {
    expect(Array.from(weightedQuantiles([3, 1, 2], [1, 1, 1]))).toEqual([1, 2, 3]);
    expect(Array.from(weightedQuantiles([3, 1, 2], [7, 7, 7]))).toEqual([1, 2, 3]);
    expect(Array.from(weightedQuantiles([1, 100], [9, 1]))).toEqual([1, 1]);
    expect(Array.from(weightedQuantiles([1, 100, 50], [1, 8, 1]))).toEqual([50, 100, 100]);
    expect(weightedQuantiles([], []).length).toBe(0);
  });
});
