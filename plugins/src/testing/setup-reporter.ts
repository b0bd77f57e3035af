import { createMetricsRegistry, silentLogger } from '@helios/core';
import type { PluginContext, ReporterHooks, ReporterPlugin } from '../define.js';
import { resolvePluginOptions } from '../loader.js';
import { fixtureStore } from './fixtures.js';

/** A reporter's hooks from its definition and raw options (validated and defaulted as at load), for wire-format tests. */
export async function setupReporter(plugin: ReporterPlugin, options: Record<string, unknown>, overrides: { now?: () => number } = {}): Promise<ReporterHooks> {
  const ctx = {
    options: resolvePluginOptions(plugin, options, plugin.name), logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }),
    store: fixtureStore(), dataDir: '/tmp', stateDir: '/tmp', now: overrides.now ?? Date.now,
  } as PluginContext<never>;
  return plugin.setup(ctx);
}
