import type { FeatureWindow, Features } from '@helios/core';
import type { ServiceMinute } from '@helios/store';

const MINUTE = 60_000;
/** z of the 95th percentile of a normal distribution: (p95 - mean) / 1.645 estimates a minute's spread. */
const Z95 = 1.645;

/**
 * The features of the minutes [start, end) of one series, from the store's per-minute rollups. Exact:
 * total_events and error_rate (both weigh sample_rate as the live windows do). Approximate, since a rollup
 * keeps a minute's summary and not its requests:
 * - avg_latency: the minutes' averages weighted by their event counts (events without a latency count too);
 * - p95_latency, p99_latency: the minutes' percentiles weighted by their event counts (the window's own
 *   percentile lies between the smallest and largest of them);
 * - latency_stddev: the spread within minutes, each estimated as (p95 - avg) / 1.645 as if normal, and
 *   the spread of the minutes' averages, combined (the live feature is a 1 %-trimmed stddev of samples);
 * - unique_endpoints: the largest minute's count (the window's distinct endpoints are at least that many).
 * Minutes without a rollup had no events, as in a live window.
 */
export function rollupFeatures(minutes: readonly ServiceMinute[]): Features {
  let events = 0, errors = 0, latencyEvents = 0, avgSum = 0, p95Sum = 0, p99Sum = 0, endpoints = 0;
  for (const m of minutes) {
    events += m.events;
    errors += m.errors;
    endpoints = Math.max(endpoints, m.uniqueEndpoints);
    if (m.latencyAvgMs === null) continue;
    latencyEvents += m.events;
    avgSum += m.latencyAvgMs * m.events;
    p95Sum += (m.latencyP95Ms ?? m.latencyAvgMs) * m.events;
    p99Sum += (m.latencyP99Ms ?? m.latencyP95Ms ?? m.latencyAvgMs) * m.events;
  }
  const avg = latencyEvents > 0 ? avgSum / latencyEvents : 0;
  let variance = 0;
  if (latencyEvents > 0) {
    for (const m of minutes) {
      if (m.latencyAvgMs === null) continue;
      const within = Math.max(0, (m.latencyP95Ms ?? m.latencyAvgMs) - m.latencyAvgMs) / Z95;
      variance += (within ** 2 + (m.latencyAvgMs - avg) ** 2) * m.events;
    }
    variance /= latencyEvents;
  }
  return {
    total_events: events,
    error_rate: events > 0 ? errors / events : 0,
    avg_latency: avg,
    p95_latency: latencyEvents > 0 ? p95Sum / latencyEvents : 0,
    p99_latency: latencyEvents > 0 ? p99Sum / latencyEvents : 0,
    latency_stddev: Math.sqrt(variance),
    unique_endpoints: endpoints,
  };
}

/**
 * Sliding windows of one series built from its per-minute rollups, as the window aggregator would have
 * closed them: each [end - windowMs, end) for every end in (from, to] on the hop grid, oldest first, with
 * `latest` the newest hop's features. Empty when the window or hop is not a whole number of minutes
 * (rollups cannot be cut finer). Windows before the series' first rollup are left out, as the aggregator
 * starts a series with its first event.
 */
export function rollupWindows(
  minutes: readonly ServiceMinute[], options: { windowMs: number; hopMs: number }, range: { tenant: string; service: string; from: number; to: number },
): FeatureWindow[] {
  const { windowMs, hopMs } = options;
  if (windowMs % MINUTE !== 0 || hopMs % MINUTE !== 0 || minutes.length === 0) return [];
  const byMinute = new Map(minutes.map((m) => [m.minute, m]));
  const first = Math.min(...minutes.map((m) => m.minute));
  const slice = (from: number, to: number): ServiceMinute[] => {
    const out: ServiceMinute[] = [];
    for (let t = from; t < to; t += MINUTE) {
      const m = byMinute.get(t);
      if (m !== undefined) out.push(m);
    }
    return out;
  };
  const windows: FeatureWindow[] = [];
  const firstEnd = Math.max(Math.ceil((range.from + 1) / hopMs) * hopMs, Math.floor(first / hopMs) * hopMs + windowMs);
  for (let end = firstEnd; end <= range.to; end += hopMs) {
    const window: FeatureWindow = { tenant: range.tenant, service: range.service, start: end - windowMs, end, features: rollupFeatures(slice(end - windowMs, end)) };
    if (windowMs > hopMs) window.latest = rollupFeatures(slice(end - hopMs, end));
    windows.push(window);
  }
  return windows;
}
