import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry };

/** One registry per process role; /metrics serves it. Default process and Node.js metrics are prefixed helios_ (helios_process_cpu_seconds_total, helios_nodejs_eventloop_lag_p99_seconds, ...). */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'helios_' });
  return registry;
}

/** The service label of every event of a tenant past its series limit. */
export const OVERFLOW_SERVICE_LABEL = '__overflow__';

export interface ServiceLabelGuardOptions {
  registry: Registry;
  /** Most distinct service labels per tenant (metrics.maxServicesPerTenant); further services share OVERFLOW_SERVICE_LABEL. */
  maxServicesPerTenant: number;
  /** A service label no tenant used for this long has its series removed (metrics.seriesIdleMs; 0: never). */
  idleMs: number;
  now?: () => number;
}

/**
 * Bounds the label cardinality of every metric labelled by service: anyone who can send an event can
 * make up service names, and each name would otherwise be a series kept, and served on /metrics,
 * forever. Per tenant at most `maxServicesPerTenant` names get series of their own; further events
 * count under OVERFLOW_SERVICE_LABEL and in helios_metrics_series_overflow_total{tenant}. Names idle
 * for `idleMs` are forgotten, and every metric that registered with `onExpired` drops their series.
 * Memory stays bounded without any scrape or sweep: the limit holds at admission.
 */
export interface ServiceLabelGuard {
  /** The label to use for this tenant's service at time `at` (stamps it as used). */
  label(tenant: string, service: string, at?: number): string;
  /** Register how a metric drops its series of an expired service label. */
  onExpired(remove: (service: string) => void): void;
  /** Forget labels idle for longer than idleMs and drop their series (also run on each /metrics scrape). */
  sweep(at?: number): void;
  /** Distinct service labels held now, over all tenants (for tests and the series gauge). */
  size(): number;
}

const guards = new WeakMap<Registry, ServiceLabelGuard>();

/**
 * The guard of a registry: one per registry, since its metrics are registered there once (the gateway
 * and the detect runtime of one process share it). The first caller's options apply.
 */
export function serviceLabelGuard(options: ServiceLabelGuardOptions): ServiceLabelGuard {
  let guard = guards.get(options.registry);
  if (guard === undefined) guards.set(options.registry, (guard = createServiceLabelGuard(options)));
  return guard;
}

function createServiceLabelGuard(options: ServiceLabelGuardOptions): ServiceLabelGuard {
  const now = options.now ?? Date.now;
  const { maxServicesPerTenant, idleMs } = options;
  /** tenant -> service -> last use. */
  const byTenant = new Map<string, Map<string, number>>();
  /** service -> how many tenants hold it (a label shared by tenants expires when the last one lets go). */
  const holders = new Map<string, number>();
  const removers: ((service: string) => void)[] = [];
  let lastSweep = now();
  const overflow = new Counter({
    name: 'helios_metrics_series_overflow_total', help: 'Events counted under service="__overflow__" because their tenant reached metrics.maxServicesPerTenant service labels', labelNames: ['tenant'], registers: [options.registry],
    collect: () => guard.sweep(),
  });
  new Gauge({
    name: 'helios_metrics_service_labels', help: 'Distinct service labels with series of their own (bounded by metrics.maxServicesPerTenant per tenant)', registers: [options.registry],
    collect() {
      this.set(holders.size);
    },
  });
  // Overflow counts per tenant are few (tenants come from configured API keys) but counted per event: kept as numbers until scraped.
  const overflowPending = new Map<string, number>();
  const guard: ServiceLabelGuard = {
    label(tenant, service, at = now()) {
      if (idleMs > 0 && at - lastSweep > idleMs / 2) guard.sweep(at);
      let services = byTenant.get(tenant);
      if (services === undefined) byTenant.set(tenant, (services = new Map()));
      if (services.has(service) || services.size < maxServicesPerTenant) {
        if (!services.has(service)) holders.set(service, (holders.get(service) ?? 0) + 1);
        services.set(service, at);
        return service;
      }
      overflowPending.set(tenant, (overflowPending.get(tenant) ?? 0) + 1);
      return OVERFLOW_SERVICE_LABEL;
    },
    onExpired(remove) {
      removers.push(remove);
    },
    sweep(at = now()) {
      lastSweep = at;
      for (const [tenant, n] of overflowPending) overflow.inc({ tenant }, n);
      overflowPending.clear();
      if (idleMs <= 0) return;
      for (const [tenant, services] of byTenant) {
        for (const [service, lastUse] of services) {
          if (at - lastUse <= idleMs) continue;
          services.delete(service);
          const left = (holders.get(service) ?? 1) - 1;
          if (left > 0) {
            holders.set(service, left);
            continue;
          }
          holders.delete(service);
          for (const remove of removers) remove(service);
        }
        if (services.size === 0) byTenant.delete(tenant);
      }
    },
    size: () => holders.size,
  };
  return guard;
}

/**
 * The metrics of several registries as one exposition (Prometheus text): a process whose work runs on
 * several threads (a registry each) serves them merged on one /metrics. Series with the same name and
 * labels are combined by their metric's aggregator (counters and histograms: summed).
 */
export async function mergedMetricsText(parts: ReadonlyArray<Awaited<ReturnType<Registry['getMetricsAsJSON']>>>): Promise<{ text: string; contentType: string }> {
  const merged = AggregatorRegistry.aggregate(parts as Parameters<typeof AggregatorRegistry.aggregate>[0]);
  return { text: await merged.metrics(), contentType: merged.contentType };
}
