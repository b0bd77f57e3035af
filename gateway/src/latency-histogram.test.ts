import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { deferredLatencyHistogram, LATENCY_BUCKETS, observeLatency } from './latency-histogram.js';

describe('deferredLatencyHistogram', () => {
  it('exposes, per route, what a Prometheus histogram would: cumulative buckets (le inclusive), sum and count', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('events', 'logs'), fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.constantFrom(...LATENCY_BUCKETS))), { maxLength: 200 }), async (observations) => {
        const registry = new Registry();
        const histogram = deferredLatencyHistogram({ name: 'h_seconds', help: 'h', routes: ['events', 'logs'], buckets: LATENCY_BUCKETS, registers: [registry] });
        for (const [route, seconds] of observations) observeLatency(histogram.series(route)!, LATENCY_BUCKETS, seconds);
        const metric = (await registry.getMetricsAsJSON())[0]!;
        for (const route of ['events', 'logs']) {
          const seen = observations.filter(([r]) => r === route).map(([, s]) => s);
          const values = metric.values.filter((v) => v.labels.route === route);
          if (seen.length === 0) {
            expect(values).toEqual([]); // an unobserved route has no series, as with prom-client
            continue;
          }
          for (const le of LATENCY_BUCKETS) expect(values.find((v) => v.metricName === 'h_seconds_bucket' && v.labels.le === le)!.value).toBe(seen.filter((s) => s <= le).length);
          expect(values.find((v) => v.labels.le === '+Inf')!.value).toBe(seen.length);
          expect(values.find((v) => v.metricName === 'h_seconds_count')!.value).toBe(seen.length);
          expect(values.find((v) => v.metricName === 'h_seconds_sum')!.value).toBeCloseTo(seen.reduce((a, b) => a + b, 0), 9);
        }
        expect(histogram.series('unknown')).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });

  it('renders the exposition format prom-client renders for its own Histogram', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const histogram = deferredLatencyHistogram({ name: 'h_seconds', help: 'h', routes: ['events'], buckets: [0.1, 1], registers: [ours] });
    const { Histogram } = await import('prom-client');
    const reference = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['route'], buckets: [0.1, 1], registers: [theirs] });
    for (const s of [0.05, 0.1, 0.5, 3]) {
      observeLatency(histogram.series('events')!, [0.1, 1], s);
      reference.observe({ route: 'events' }, s);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
