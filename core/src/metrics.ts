import { Registry, collectDefaultMetrics } from 'prom-client';

export { Registry };

/** One registry per process role; /metrics serves it. Default process and Node.js metrics are prefixed helios_ (helios_process_cpu_seconds_total, helios_nodejs_eventloop_lag_p99_seconds, ...). */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'helios_' });
  return registry;
}
