import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, resolveConfig } from '@helios/core';
import { startHelios, type HeliosApp } from '@helios/cli';
import { alertRulesFile, dashboardQueries, dashboardsRoot, grafanaDashboardsDir, metricNamesIn, seriesNamesInExposition, type GrafanaDashboard } from '../src/index.js';

const repoRoot = join(dashboardsRoot, '..');
const allowList = JSON.parse(readFileSync(join(dashboardsRoot, 'metrics-allowlist.json'), 'utf8')) as { metrics: Array<{ name: string; source: string }> };
/** Series Prometheus makes itself rather than scraping them. */
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** Every (where, metric) an alert rule or a dashboard panel reads. */
function queriedMetrics(): Array<{ where: string; metric: string }> {
  const out: Array<{ where: string; metric: string }> = [];
  const rules = parseYaml(readFileSync(alertRulesFile, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  for (const rule of rules.groups.flatMap((g) => g.rules)) for (const metric of metricNamesIn(rule.expr)) out.push({ where: `alert ${rule.alert}`, metric });
  for (const file of readdirSync(grafanaDashboardsDir).filter((f) => f.endsWith('.json'))) {
    const model = JSON.parse(readFileSync(join(grafanaDashboardsDir, file), 'utf8')) as GrafanaDashboard;
    for (const q of dashboardQueries(model).filter((x) => x.kind === 'promql')) for (const metric of metricNamesIn(q.query)) out.push({ where: q.panel, metric });
  }
  return out;
}

describe('metric names in PromQL', () => {
  it('finds series names, not functions, label names, keywords or Grafana variables', () => {
    expect(metricNamesIn('histogram_quantile(0.99, sum by (le, route) (rate(helios_ingestion_latency_seconds_bucket{route=~"$route"}[$__rate_interval])))')).toEqual(['helios_ingestion_latency_seconds_bucket']);
    expect(metricNamesIn('sum(rate(a_total{status=~"5.."}[5m])) / on (job) group_left sum(rate(b_total[5m])) > 0.01')).toEqual(['a_total', 'b_total']);
    expect(metricNamesIn('max by (service) (helios_anomaly_detection_score) offset 5m')).toEqual(['helios_anomaly_detection_score']);
  });
});

describe('every metric an alert or a panel queries is one Helios exports', () => {
  let app: HeliosApp;
  let exported: Set<string>;

  beforeAll(async () => {
    const config = resolveConfig({ dataDir: ':memory:', log: { level: 'silent' }, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, transport: 'node' } });
    app = await startHelios({ config, baseDir: repoRoot, logger: createLogger({ level: 'silent' }) });
    const events = ['INFO', 'ERROR'].map((level, i) => ({ service: 'checkout', level, message: 'm', metadata: { latency_ms: 10 + i, endpoint: '/pay' } }));
    const res = await fetch(`http://127.0.0.1:${app.port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(res.status).toBe(202);
    await fetch(`http://127.0.0.1:${app.port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    await app.settle(10_000);
    exported = seriesNamesInExposition(await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text());
  });
  afterAll(async () => app?.stop());

  it('a running Helios exports the core series', () => {
    for (const name of ['helios_events_ingested_total', 'helios_ingestion_latency_seconds_bucket', 'helios_anomaly_detection_score', 'helios_report_generation_duration_seconds_bucket', 'helios_plugin_errors_total', 'helios_process_cpu_seconds_total']) {
      expect(exported.has(name), name).toBe(true);
    }
  });

  it('each allow-listed metric is registered by the source file it names', () => {
    for (const { name, source } of allowList.metrics) {
      const path = join(repoRoot, source);
      expect(existsSync(path), `${name}: ${source} missing`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${source} does not register ${name}`).toMatch(new RegExp(`name: '${name}'`));
    }
  });

  it('alerts and panels query only exported, allow-listed or Prometheus-made series', () => {
    const known = new Set([...exported, ...allowList.metrics.map((m) => m.name), ...PROMETHEUS_SERIES]);
    const queried = queriedMetrics();
    expect(queried.length).toBeGreaterThan(40);
    expect(queried.filter((q) => !known.has(q.metric))).toEqual([]);
  });

  it('the issue\'s alerts exist: ingestion p99 > 100 ms, consumer lag > 10,000, detection failures > 5%, LLM errors > 1%', () => {
    const text = readFileSync(alertRulesFile, 'utf8');
    expect(text).toMatch(/histogram_quantile\(0\.99,[^\n]*helios_ingestion_latency_seconds_bucket[^\n]*> 0\.1\n/);
    expect(text).toMatch(/helios_kafka_consumer_lag\) > 10000/);
    expect(text).toMatch(/helios_detection_failures_total[\s\S]*?helios_detection_windows_total[^\n]*> 0\.05/);
    expect(text).toMatch(/helios_llm_requests_total[\s\S]*?> 0\.01/);
  });
});
