import { Registry, collectDefaultMetrics } from 'prom-client';

export { Registry };

/** One registry per process role; /metrics serves it. Default Node metrics are prefixed helios_process_. */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'helios_process_' });
  return registry;
}
