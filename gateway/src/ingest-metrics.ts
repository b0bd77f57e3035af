import { Counter, Gauge } from 'prom-client';
import { serviceLabelGuard, type HeliosConfig, type HeliosEvent, type Level, type Registry } from '@helios/core';
import type { BodyBudget } from './body-budget.js';
import { deferredCounter, type CounterSeries } from './deferred-counter.js';
import { deferredLatencyHistogram, LATENCY_BUCKETS, observeLatency, type LatencySeries } from './latency-histogram.js';

/** Per route: its latency series (ingest routes only) and its request counter series by status, found with one lookup per request. */
export interface RouteStats {
  readonly route: string;
  readonly latency: LatencySeries | undefined;
  readonly byStatus: Map<number, CounterSeries>;
}

export interface GatewayMetrics {
  /** helios_events_rejected_total{code}. */
  readonly rejected: Counter<'code'>;
  /** The stats of a route label (kept: the same object for the same route). */
  statsOf(route: string): RouteStats;
  /** The end of a request: its latency (ingest routes) and helios_http_requests_total{route,status}. */
  recordRequest(stats: RouteStats, status: number, seconds: number): void;
  /** Count accepted events per service and level now (plain additions; prom-client sees them at scrape time). */
  countIngested(events: readonly HeliosEvent[]): void;
  /**
   * Count events once `publishing` resolved. Their counter series are looked up first, so nothing holds
   * the events while the bus acknowledges: events alive across a Kafka round trip outlive the young
   * generation, and promoting them made garbage collection a quarter of the gateway's time there.
   */
  countWhenPublished(events: readonly HeliosEvent[], publishing: Promise<void>): Promise<void>;
}

/**
 * Service labels in helios_events_ingested_total go through the cardinality guard (metrics config);
 * every counter here is a deferred one: the hot path adds to plain numbers, prom-client reads them at
 * scrape time.
 */
export function createGatewayMetrics(options: { registry: Registry; metricsConfig: HeliosConfig['metrics']; now: () => number; bodyBudget: BodyBudget; ingestRoutes: Iterable<string> }): GatewayMetrics {
  const { registry, metricsConfig, now, bodyBudget } = options;
  const serviceLabels = serviceLabelGuard({ registry, maxServicesPerTenant: metricsConfig.maxServicesPerTenant, idleMs: metricsConfig.seriesIdleMs, now });
  new Gauge({
    name: 'helios_gateway_inflight_body_bytes', help: 'Bytes of request bodies (raw as received, plus decoded) held by requests in flight; refused with 503 beyond gateway.maxInFlightBodyBytes', registers: [registry],
    collect() {
      this.set(bodyBudget.inUse);
    },
  });
  const ingested = deferredCounter({ name: 'helios_events_ingested_total', help: 'Events accepted by the gateway (published to the bus)', labelNames: ['service', 'level'], registers: [registry] });
  const rejected = new Counter({ name: 'helios_events_rejected_total', help: 'Requests or events refused by the gateway, by error code', labelNames: ['code'], registers: [registry] });
  const latency = deferredLatencyHistogram({
    name: 'helios_ingestion_latency_seconds', help: 'Time from a complete request body to the response (includes the bus acknowledgement)', routes: options.ingestRoutes, registers: [registry],
    buckets: LATENCY_BUCKETS,
  });
  const requests = deferredCounter({ name: 'helios_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });

  const routeStats = new Map<string, RouteStats>();
  function statsOf(route: string): RouteStats {
    let stats = routeStats.get(route);
    if (stats === undefined) routeStats.set(route, (stats = { route, latency: latency.series(route), byStatus: new Map() }));
    return stats;
  }

  function recordRequest(stats: RouteStats, status: number, seconds: number): void {
    if (stats.latency !== undefined) observeLatency(stats.latency, LATENCY_BUCKETS, seconds);
    let series = stats.byStatus.get(status);
    if (series === undefined) stats.byStatus.set(status, (series = requests.series({ route: stats.route, status: String(status) })));
    series.n++;
  }

  /** Counter series per service label, then per level (a closed set): no key string built per event. */
  interface ServiceSeries {
    label: string;
    byLevel: Partial<Record<Level, CounterSeries>>;
  }
  const ingestedByService = new Map<string, ServiceSeries>();
  serviceLabels.onExpired((service) => {
    ingestedByService.delete(service);
    ingested.removeWhere('service', service);
  });
  /** The series of a tenant's service, by the label the guard gives it. */
  function serviceSeriesOf(tenant: string, service: string, at: number): ServiceSeries {
    const label = serviceLabels.label(tenant, service, at);
    let found = ingestedByService.get(label);
    if (found === undefined) ingestedByService.set(label, (found = { label, byLevel: {} }));
    return found;
  }

  /** Whether events[i] starts a new run of one tenant and service (the guard is asked once per run, not per event). */
  function startsRun(events: readonly HeliosEvent[], i: number): boolean {
    return i === 0 || events[i]!.service !== events[i - 1]!.service || events[i]!.tenant !== events[i - 1]!.tenant;
  }

  function levelSeries(current: ServiceSeries, level: Level): CounterSeries {
    return (current.byLevel[level] ??= ingested.series({ service: current.label, level }));
  }

  return {
    rejected,
    statsOf,
    recordRequest,
    countIngested(events) {
      const at = now();
      let current: ServiceSeries | undefined;
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        if (startsRun(events, i)) current = serviceSeriesOf(event.tenant, event.service, at);
        levelSeries(current!, event.level).n++;
      }
    },
    countWhenPublished(events, publishing) {
      const at = now();
      const series = new Array<CounterSeries>(events.length);
      let current: ServiceSeries | undefined;
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        if (startsRun(events, i)) current = serviceSeriesOf(event.tenant, event.service, at);
        series[i] = levelSeries(current!, event.level);
      }
      return publishing.then(() => {
        for (let i = 0; i < series.length; i++) series[i]!.n++;
      });
    },
  };
}
