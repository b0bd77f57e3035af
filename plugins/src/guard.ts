import { Counter, Histogram, type Registry } from 'prom-client';
import { HeliosError, type Logger } from '@helios/core';

export interface PluginHealth {
  calls: number;
  errors: number;
  timeouts: number;
  totalMs: number;
  lastError?: string;
}

export interface PluginGuardMetrics {
  errors: Counter<'plugin' | 'hook' | 'reason'>;
  duration: Histogram<'plugin' | 'hook'>;
}

const metricsByRegistry = new WeakMap<Registry, PluginGuardMetrics>();

export function pluginGuardMetrics(registry: Registry): PluginGuardMetrics {
  let m = metricsByRegistry.get(registry);
  if (m === undefined) {
    m = {
      errors: new Counter({ name: 'helios_plugin_errors_total', help: 'Plugin hook calls that threw or timed out', labelNames: ['plugin', 'hook', 'reason'], registers: [registry] }),
      duration: new Histogram({
        name: 'helios_plugin_hook_duration_seconds', help: 'Time spent in plugin hooks', labelNames: ['plugin', 'hook'], registers: [registry],
        buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      }),
    };
    metricsByRegistry.set(registry, m);
  }
  return m;
}

/**
 * Every call into plugin code goes through here: a time limit, errors counted and logged, never
 * thrown past the host. A plugin that throws or hangs costs its own result, never the pipeline's.
 * (A hung promise cannot be cancelled in JavaScript; it is abandoned and counted as a timeout.)
 */
export class PluginGuard {
  readonly health: PluginHealth = { calls: 0, errors: 0, timeouts: 0, totalMs: 0 };

  constructor(
    readonly plugin: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly metrics: PluginGuardMetrics,
  ) {}

  /** Resolves with the hook's result, or with `{ error }` when it threw or timed out. */
  async call<T>(hook: string, fn: () => T | Promise<T>): Promise<{ ok: true; value: Awaited<T> } | { ok: false; error: HeliosError }> {
    const started = performance.now();
    this.health.calls++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HeliosError('HLS_ERR_PLUGIN_TIMEOUT', `${this.plugin}.${hook} did not finish within ${this.timeoutMs} ms`)), this.timeoutMs);
        timer.unref();
      });
      const value = await Promise.race([Promise.resolve().then(fn), timeout]);
      return { ok: true, value };
    } catch (err) {
      const error = err instanceof HeliosError && err.code === 'HLS_ERR_PLUGIN_TIMEOUT'
        ? err
        : new HeliosError('HLS_ERR_PLUGIN_FAILED', `${this.plugin}.${hook} threw: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      const reason = error.code === 'HLS_ERR_PLUGIN_TIMEOUT' ? 'timeout' : 'error';
      if (reason === 'timeout') this.health.timeouts++;
      this.health.errors++;
      this.health.lastError = error.message;
      this.metrics.errors.inc({ plugin: this.plugin, hook, reason });
      this.logger.error({ plugin: this.plugin, hook, err: error.cause ?? error }, error.message);
      return { ok: false, error };
    } finally {
      clearTimeout(timer);
      const ms = performance.now() - started;
      this.health.totalMs += ms;
      this.metrics.duration.observe({ plugin: this.plugin, hook }, ms / 1000);
    }
  }
}
