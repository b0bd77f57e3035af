import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type GaugeMetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topics, isIncidentResolution, resolveConfig, seededRandom, silentLogger, type Anomaly, type AnomalyTopicRecord, type EventInput, type IncidentReport } from '@helios/core';
import { startHelios, type HeliosApp } from '../app.js';

const MIN = 60_000;

class ManualMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/**
 * A gauge as the OpenTelemetry SDK collects it, for service `inventory`, with its points moved to the
 * given times: the exporter sends them as they are, so 2.5 hours of history take seconds.
 */
async function gaugeExport(points: Array<{ at: number; queue: string; value: number }>): Promise<ResourceMetrics> {
  const reader = new ManualMetricReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'inventory' }), readers: [reader] });
  provider.getMeter('inventory-meter').createGauge('queue.depth', { unit: '{item}' }).record(1, { queue: 'orders' });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const metric = resourceMetrics.scopeMetrics[0]!.metrics[0]! as GaugeMetricData;
  expect(metric).toMatchObject({ dataPointType: DataPointType.GAUGE, aggregationTemporality: AggregationTemporality.CUMULATIVE });
  const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1e6];
  metric.dataPoints = points.map((p) => ({ startTime: hr(p.at), endTime: hr(p.at), attributes: { queue: p.queue }, value: p.value }));
  return resourceMetrics;
}

/**
 * OTLP metrics end to end: the real OpenTelemetry metrics exporter -> gateway -> bus -> detection. Metric
 * points form series of their own (metric name + attributes), are judged by both built-in detectors, and a
 * level shift in one of them is reported naming the metric, while the service's requests stay unjudged by
 * them (no request counts from metric points).
 */
describe('OTLP metrics through the pipeline', () => {
  let app: HeliosApp;
  const reports: IncidentReport[] = [];
  const anomalies: Anomaly[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-metrics-e2e-'));
    const config = resolveConfig({
      dataDir: dir,
      gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1 },
      plugins: { detectors: [{ use: '@helios/detector-isolation-forest' }, { use: '@helios/detector-robust-zscore' }], reporters: [{ use: '@helios/reporter-template' }] },
    });
    app = await startHelios({ config, baseDir: dir, logger: silentLogger(), onReport: (r) => reports.push(r) });
    // Openings only: the topic also carries incident resolutions.
    app.bus.subscribe<AnomalyTopicRecord>(Topics.anomalies, 'test-observer', async (records) => void anomalies.push(...records.map((r) => r.value).filter((v): v is Anomaly => !isIncidentResolution(v))));
  });
  afterAll(() => app?.stop());

  it('turns a level shift of one exported gauge series into one incident and report naming the metric', async () => {
    const random = seededRandom(3);
    const minutes = 150;
    const start = Math.floor((Date.now() - (minutes + 2) * MIN) / MIN) * MIN;
    const exporter = new OTLPMetricExporter({ url: `http://127.0.0.1:${app.port}/v1/metrics` });
    // Minute by minute, as live traffic arrives: event time (the watermark) is shared by requests and metrics.
    for (let k = 0; k < minutes; k++) {
      const points: Array<{ at: number; queue: string; value: number }> = [];
      for (let s = 0; s < 4; s++) {
        const at = start + k * MIN + s * 15_000;
        points.push({ at, queue: 'orders', value: (k >= 130 ? 400 : 100) + (random() - 0.5) * 10 });
        points.push({ at, queue: 'emails', value: 20 + (random() - 0.5) * 2 });
      }
      const requests: EventInput[] = Array.from({ length: 10 }, (_, i) => ({ service: 'inventory', timestamp: start + k * MIN + i * 6000, message: 'GET /stock', metadata: { latency_ms: 20 + random() * 5, endpoint: '/stock' } }));
      const res = await fetch(`http://127.0.0.1:${app.port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(requests) });
      expect(res.status).toBe(202);
      const resourceMetrics = await gaugeExport(points);
      const result = await new Promise<ExportResult>((resolve) => exporter.export(resourceMetrics, resolve));
      expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
    }
    await exporter.shutdown();
    await app.flushDetection();
    for (let i = 0; i < 100 && reports.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await app.settle();

    // One incident, in the shifted series; none for the steady series or the service's steady requests.
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]).toMatchObject({ service: 'inventory', metric: { name: 'queue.depth', attributes: { queue: 'orders' } } });
    expect(anomalies[0]!.windowEnd).toBeGreaterThan(start + 130 * MIN);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.title).toContain('inventory queue.depth');
    expect(reports[0]!.markdown).toContain('metric `queue.depth{queue="orders"}` of service `inventory`');
    // The stored anomaly names its series too (what the read API and `helios` reports list).
    const stored = (await app.store.listAnomalies({ service: 'inventory' })).items;
    expect(stored.map((a) => a.metric)).toEqual([{ name: 'queue.depth', attributes: { queue: 'orders' } }]);
    expect(await app.metrics.metrics()).toMatch(/helios_detection_metric_points_overflow_total 0/);
  }, 120_000);
});
