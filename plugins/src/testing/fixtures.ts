import { FEATURE_NAMES, newEventId, seededRandom, silentLogger, createMetricsRegistry, type Anomaly, type FeatureWindow, type Features, type Incident, type IncidentContext, type MetricWindow } from '@helios/core';
import type { StoreReader } from '@helios/store';
import type { PluginHostOptions } from '../loader.js';

export const FIXTURE_T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export function normalFeatures(overrides: Partial<Features> = {}): Features {
  return { total_events: 600, error_rate: 0.01, avg_latency: 45, p95_latency: 80, p99_latency: 100, latency_stddev: 18, unique_endpoints: 3, ...overrides };
}

/** A series of windows ending at `FIXTURE_T0 + i minutes`, with small deterministic wobble. */
export function windowSeries(n: number, service = 'checkout', tenant = 'default'): FeatureWindow[] {
  return Array.from({ length: n }, (_, i) => {
    const wobble = Math.sin(i * 1.7) * 0.05;
    const features = normalFeatures({ total_events: 600 * (1 + wobble), avg_latency: 45 * (1 - wobble), p95_latency: 80 * (1 + wobble / 2), error_rate: 0.01 * (1 + wobble) });
    const end = FIXTURE_T0 + i * 60_000;
    return { tenant, service, start: end - 300_000, end, features };
  });
}

export function anomalousWindow(service = 'checkout', tenant = 'default', end = FIXTURE_T0 + 3_600_000): FeatureWindow {
  return { tenant, service, start: end - 300_000, end, features: normalFeatures({ error_rate: 0.35, p95_latency: 1400, p99_latency: 2600, latency_stddev: 600, avg_latency: 420 }) };
}

/**
 * Sliding 5-minute windows (1-minute hops, `latest` = the newest minute) of a service with few, rare errors:
 * about `eventsPerWindow` requests a window, each failing at `errorRate`, but no window holds more errors
 * than its rate makes likely: more than the count k with P(X >= k) <= `likely` under Poisson(events x rate)
 * (excess errors are taken from the window's newest minutes). Latencies wobble a little and never jump. The
 * shape of the neighbour in cli/src/e2e/trace-shapes.test.ts: 2 errors in ~150 requests at 0.3 %.
 */
export function errorCountSeries(o: { seed: number; errorRate: number; eventsPerWindow: number; windows: number; likely?: number; service?: string; tenant?: string }): FeatureWindow[] {
  const random = seededRandom(o.seed);
  const minutes = o.windows + 4;
  const perMinute = o.eventsPerWindow / 5;
  const events: number[] = [];
  const errors: number[] = [];
  for (let m = 0; m < minutes; m++) {
    const n = Math.max(1, Math.round(perMinute * (0.85 + 0.3 * random())));
    let e = 0;
    for (let i = 0; i < n; i++) if (random() < o.errorRate) e++;
    events.push(n);
    errors.push(e);
  }
  const likelyMost = (lambda: number): number => {
    // Smallest k with P(X > k) <= likely.
    let k = 0, pmf = Math.exp(-lambda), cdf = pmf;
    while (1 - cdf > (o.likely ?? 1e-3) && k < 10_000) {
      pmf *= lambda / ++k;
      cdf += pmf;
    }
    return k;
  };
  const out: FeatureWindow[] = [];
  for (let w = 0; w < o.windows; w++) {
    const from = w, to = w + 5;
    let n = 0, e = 0;
    for (let m = from; m < to; m++) {
      n += events[m]!;
      e += errors[m]!;
    }
    // Earlier windows are fixed by now: the excess goes from this window's minutes, newest first.
    for (let m = to - 1, excess = e - likelyMost(n * o.errorRate); excess > 0 && m >= from; m--) {
      const taken = Math.min(excess, errors[m]!);
      errors[m]! -= taken;
      e -= taken;
      excess -= taken;
    }
    const wobble = 1 + 0.05 * Math.sin(w * 1.3);
    const end = FIXTURE_T0 + w * 60_000;
    const latencies = { avg_latency: 40 * wobble, p95_latency: 90 * wobble, p99_latency: 120 * wobble, latency_stddev: 20 * wobble, unique_endpoints: 3 };
    out.push({
      tenant: o.tenant ?? 'default', service: o.service ?? 'catalog', start: end - 300_000, end,
      features: { total_events: n, error_rate: e / n, ...latencies },
      latest: { total_events: events[to - 1]!, error_rate: errors[to - 1]! / events[to - 1]!, ...latencies },
    });
  }
  return out;
}

/**
 * Windows of one metric series (`queue.depth{queue="orders"}`, 5 points a window) ending at `FIXTURE_T0 + i
 * minutes`, around 100 with small deterministic wobble; from window `shiftAt` on, the level is `shifted`.
 */
export function metricWindowSeries(n: number, { shiftAt = n, shifted = 300, service = 'checkout', tenant = 'default' } = {}): MetricWindow[] {
  let previousMean: number | undefined;
  return Array.from({ length: n }, (_, i) => {
    const level = i >= shiftAt ? shifted : 100;
    const mean = level * (1 + Math.sin(i * 1.7) * 0.02);
    const change = previousMean === undefined ? 0 : mean - previousMean;
    previousMean = mean;
    const end = FIXTURE_T0 + i * 60_000;
    return {
      tenant, service, metric: { name: 'queue.depth', attributes: { queue: 'orders' } }, start: end - 300_000, end,
      features: { points: 5, mean, min: mean * 0.98, max: mean * 1.02, last: mean * (1 + Math.cos(i) * 0.01), change },
    };
  });
}

export function sampleContext(): IncidentContext {
  const from = FIXTURE_T0 + 3_300_000;
  const to = from + 300_000;
  return {
    window: { from, to, events: 614, errors: 215, avgLatencyMs: 420, p95LatencyMs: 1400 },
    baseline: { from: from - 900_000, to: from, events: 1800, errors: 18, avgLatencyMs: 45, p95LatencyMs: 80 },
    topErrors: [{ errorCode: 'DB_TIMEOUT', message: 'database connection timeout after 5000 ms', events: 200, lastSeen: to - 1000 }],
    slowestEndpoints: [{ endpoint: '/api/payments', events: 200, errors: 190, avgLatencyMs: 1200, p95LatencyMs: 2400 }, { endpoint: '/api/cart', events: 400, errors: 25, avgLatencyMs: 40, p95LatencyMs: 75 }],
    tenants: [{ tenant: 'default', events: 614, errors: 215 }],
    exampleTraceIds: ['0af7651916cd43dd8448eb211c80319c'],
  };
}

export function sampleIncident(): Incident {
  const window = anomalousWindow();
  const baseline = normalFeatures();
  const anomaly: Anomaly = {
    id: newEventId(), tenant: window.tenant, service: window.service, windowStart: window.start, windowEnd: window.end, detectedAt: window.end + 10_000,
    detector: '@helios/detector-isolation-forest', severity: 'high', score: 0.74, threshold: 0.61, features: window.features, modelVersion: 'iforest-3',
    explanation: FEATURE_NAMES.map((feature, i) => ({
      feature, value: window.features[feature], baseline: baseline[feature], contribution: [0.3, 0.25, 0.15, 0.1, 0.1, 0.05, 0.05][i]!,
      direction: window.features[feature] > baseline[feature] * 1.05 ? 'up' as const : window.features[feature] < baseline[feature] * 0.95 ? 'down' as const : 'flat' as const,
    })).sort((a, b) => b.contribution - a.contribution),
  };
  return { anomaly, context: sampleContext() };
}

/** A StoreReader over fixed data, answering like the real store does for an empty database plus the sample incident. */
export function fixtureStore(context: IncidentContext = sampleContext()): StoreReader {
  return {
    incidentContext: async () => structuredClone(context),
    listAnomalies: async () => ({ items: [], nextCursor: undefined }),
    listReports: async () => ({ items: [], nextCursor: undefined }),
    getReport: async () => undefined,
    countEvents: async () => context.window.events,
    latestEventTime: async () => context.window.to,
    rollups: async () => [],
    searchEvents: async () => ({ items: [], nextCursor: undefined }),
    eventsAfter: async () => [],
    traceEvents: async () => ({ items: [], truncated: false }),
    serviceOverview: async () => [],
    detectorSeriesStates: async () => [],
    incidentTimeline: async () => structuredClone(context.timeline ?? { minutes: [], anomalies: [], asOf: context.window.to }),
    getIncident: async () => undefined,
    listIncidents: async () => ({ items: [], nextCursor: undefined }),
    listSilences: async () => [],
    unresolvedIncidents: async () => [],
  };
}

/** Host options for loading a plugin in a test: silent logger, fresh registry, fixture store, a temp data dir. */
export function testHost(overrides: Partial<PluginHostOptions> & { dataDir: string }): PluginHostOptions {
  return { baseDir: process.cwd(), logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }), store: fixtureStore(), timeoutMs: 5000, ...overrides };
}
