import { describe, expect, it } from 'vitest';
import { normalizeEventInput, type AttributeValue } from '@helios/core';
import type { ClosedMetricWindow } from './metric-windows.js';
import { WindowAggregator } from './windows.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const FAR = T0 + 1e9;
const request = (minute: number, fields: Record<string, unknown> = {}) =>
  normalizeEventInput({ service: 'svc', timestamp: T0 + minute * MIN + 1000, latency_ms: 10, endpoint: '/a', ...fields }, { tenant: 't', now: T0 });
/** A data point as the gateway's OTLP translation writes it (gateway/src/otlp/translate.ts). */
const point = (minute: number, name: string, metric: Record<string, AttributeValue>, attributes: Record<string, AttributeValue> = {}) =>
  normalizeEventInput({
    service: 'svc', kind: 'metric', message: name, timestamp: T0 + minute * MIN + 2000,
    attributes: { ...attributes, 'metric.name': name, 'otel.scope.name': 'meter', ...metric },
  }, { tenant: 't', now: T0 });
const gauge = (minute: number, value: number, attributes: Record<string, AttributeValue> = {}) => point(minute, 'queue.depth', { 'metric.type': 'gauge', 'metric.value': value }, attributes);

function closeAll(agg: WindowAggregator, upTo: number): { service: ReturnType<WindowAggregator['closeUpTo']>; metric: ClosedMetricWindow[] } {
  const metric: ClosedMetricWindow[] = [];
  const service = agg.closeUpTo(upTo, metric);
  return { service, metric };
}

describe('WindowAggregator: metric series', () => {
  it('windows metric points per metric name + sorted attributes, with point count, mean, min, max, last and change', () => {
    const agg = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    for (let m = 0; m < 6; m++) {
      agg.add(gauge(m, 10 + m, { queue: 'orders', region: 'eu' }), FAR);
      // Same attributes in another order: the same series.
      agg.add(point(m, 'queue.depth', { 'metric.type': 'gauge', 'metric.value': 100 }, { region: 'eu', queue: 'orders' }), FAR);
      agg.add(gauge(m, 1, { queue: 'refunds', region: 'eu' }), FAR);
    }
    const { service, metric } = closeAll(agg, T0 + 6 * MIN);
    expect(service).toEqual([]); // no requests: no request series
    const orders = metric.filter((w) => w.metric.attributes.queue === 'orders');
    expect(orders.map((w) => w.end)).toEqual([T0 + 5 * MIN, T0 + 6 * MIN]);
    expect(orders[0]).toMatchObject({ tenant: 't', service: 'svc', start: T0, metric: { name: 'queue.depth', attributes: { queue: 'orders', region: 'eu' } } });
    expect(Object.keys(orders[0]!.metric.attributes)).toEqual(['queue', 'region']);
    expect(orders[0]!.features).toEqual({ points: 10, mean: (10 + 11 + 12 + 13 + 14 + 500) / 10, min: 10, max: 100, last: 100, change: 0 });
    expect(orders[1]!.features.change).toBeCloseTo((11 + 12 + 13 + 14 + 15 + 500) / 10 - orders[0]!.features.mean);
    expect(metric.filter((w) => w.metric.attributes.queue === 'refunds')[0]!.features).toMatchObject({ points: 5, mean: 1 });
    expect(agg.metricSeriesCount).toBe(2);
  });

  it('leaves the request series exactly as without metric points (they are not requests of the service)', () => {
    const withMetrics = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    const without = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    for (let m = 0; m < 8; m++) {
      for (let i = 0; i < 5; i++) {
        const e = request(m, { level: i === 0 ? 'ERROR' : 'INFO', latency_ms: 10 + i });
        withMetrics.add(e, FAR);
        without.add(e, FAR);
      }
      // Points that look like failing, slow requests of other endpoints if counted as requests.
      const histogram = point(m, 'http.server.duration', { 'metric.type': 'histogram', 'metric.temporality': 'delta', 'metric.count': 50, 'metric.sum': 5000 }, { 'http.route': '/b', 'http.status_code': 503 });
      withMetrics.add({ ...histogram, latency_ms: 100, endpoint: '/b', status_code: 503 }, FAR);
    }
    const a = closeAll(withMetrics, T0 + 8 * MIN);
    const b = closeAll(without, T0 + 8 * MIN);
    expect(a.service).toEqual(b.service);
    expect(a.service[0]!.features).toMatchObject({ total_events: 25, error_rate: 0.2, unique_endpoints: 1 });
    expect(a.metric.map((w) => w.features.mean)).toEqual([100, 100, 100, 100]);
    expect(b.metric).toEqual([]);
  });

  it('takes increases of monotonic cumulative sums (resets included) and interval means of cumulative histograms', () => {
    const agg = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0 });
    const counter = (m: number, value: number) => point(m, 'requests', { 'metric.type': 'sum', 'metric.temporality': 'cumulative', 'metric.monotonic': true, 'metric.value': value });
    const histogram = (m: number, count: number, sum: number) => point(m, 'latency', { 'metric.type': 'histogram', 'metric.temporality': 'cumulative', 'metric.count': count, 'metric.sum': sum });
    [100, 160, 230, 20, 80].forEach((v, m) => agg.add(counter(m, v), FAR)); // the process restarted before minute 3
    [[10, 100], [30, 500], [30, 500], [40, 1500]].forEach(([count, sum], m) => agg.add(histogram(m, count!, sum!), FAR));
    const { metric } = closeAll(agg, T0 + 5 * MIN);
    const of = (name: string) => metric.filter((w) => w.metric.name === name).map((w) => w.features);
    // The first point is the reference (no value); a window without values keeps the level it had.
    expect(of('requests').map((f) => [f.points, f.mean])).toEqual([[1, 0], [1, 60], [1, 70], [1, 20], [1, 60]]);
    // Mean since the start, then (sum delta / count delta); no new observations: no value.
    // The last window has no point: it keeps the level, and the silence shows in `points`.
    expect(of('latency').map((f) => [f.points, f.mean, f.change])).toEqual([[1, 10, 0], [1, 20, 10], [1, 20, 0], [1, 100, 80], [0, 100, 0]]);
  });

  it('takes the increases of each replica\u2019s own cumulative counter within one series', () => {
    const agg = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0 });
    const counter = (m: number, pod: string, value: number) => ({
      ...point(m, 'requests', { 'metric.type': 'sum', 'metric.temporality': 'cumulative', 'metric.monotonic': true, 'metric.value': value }),
      resource: { 'service.name': 'svc', 'k8s.pod.name': pod },
    });
    // Pod a counts 1000, 1010, 1030; pod b 5, 25, 30: one series (same metric and attributes), two counters.
    [[1000, 5], [1010, 25], [1030, 30]].forEach(([a, b], m) => {
      agg.add(counter(m, 'a', a!), FAR);
      agg.add(counter(m, 'b', b!), FAR);
    });
    const { metric } = closeAll(agg, T0 + 3 * MIN);
    expect(metric.map((w) => [w.features.points, w.features.mean, w.features.min, w.features.max])).toEqual([[2, 0, 0, 0], [2, 15, 10, 20], [2, 12.5, 5, 20]]);
  });

  it('bounds metric series per tenant+service and counts the points it did not window', () => {
    const agg = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0, maxMetricSeries: 3 });
    for (let user = 0; user < 10; user++) agg.add(gauge(0, user, { 'user.id': user }), FAR);
    agg.add(gauge(0, 1, { 'user.id': 0 }), FAR); // a known series still takes points
    agg.add({ ...gauge(0, 1), service: 'other' }, FAR); // another service has slots of its own
    expect(agg.metricSeriesCount).toBe(4);
    expect(agg.metricOverflowPoints).toBe(7);
    const { metric } = closeAll(agg, T0 + MIN);
    expect(metric).toHaveLength(4);
    expect(metric.find((w) => w.metric.attributes['user.id'] === '0')!.features.points).toBe(2);
    // 0: metric points are not windowed at all, and never counted as requests either.
    const off = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0, maxMetricSeries: 0 });
    off.add(gauge(0, 1), FAR);
    expect([off.metricSeriesCount, off.metricOverflowPoints, off.seriesCount]).toEqual([0, 1, 0]);
  });

  it('marks metric windows that overlap lost telemetry incomplete, like request windows', () => {
    const agg = new WindowAggregator({ windowMs: 2 * MIN, hopMs: MIN, allowedLatenessMs: 0 });
    for (let m = 0; m < 5; m++) {
      agg.add(gauge(m, 1), FAR);
      agg.add(request(m), FAR);
    }
    agg.markGap({ from: T0 + 2 * MIN, to: T0 + 2 * MIN + 1 });
    const { service, metric } = closeAll(agg, T0 + 5 * MIN);
    const flags = (ws: ReadonlyArray<{ end: number; incomplete?: true }>) => ws.map((w) => [(w.end - T0) / MIN, w.incomplete === true]);
    expect(flags(metric)).toEqual([[2, false], [3, true], [4, true], [5, false]]);
    expect(flags(metric)).toEqual(flags(service));
  });
});
