import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, silentLogger, Topics, type HeliosEvent } from '@helios/core';
import { startHelios, type HeliosApp } from '../app.js';

/**
 * Real OTLP/gRPC clients against Helios as `helios up` runs it (defaults: embedded store, in-process
 * bus, auth off), only its ports moved to free ones so parallel tests cannot collide on 4317/4318:
 * the OpenTelemetry Python SDK's gRPC exporters, telemetrygen in its default (gRPC) mode (unthrottled: its default rate is 1 span per second), and an
 * OpenTelemetry Collector whose stock `otlp` exporter forwards to Helios. Each record must be stored
 * once (retries included) with its fields right. In CI (CI=true) missing clients fail the suite:
 * .ci/run installs the Python packages and builds the Go binaries (scripts/telemetrygen.sh, scripts/otelcol.sh).
 */

const root = resolve(import.meta.dirname, '..', '..', '..');
const CI = process.env['CI'] === 'true';

function pythonGrpcExporter(): boolean {
  try {
    execFileSync('python3', ['-c', 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A Go tool: its variable, else the cache the build script fills. */
function goTool(variable: string, cached: string): string | undefined {
  const fromEnv = process.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const path = join(homedir(), '.cache/helios/bin', cached);
  return existsSync(path) ? path : undefined;
}

const telemetrygen = goTool('HELIOS_TELEMETRYGEN_BIN', 'telemetrygen-v0.161.0');
const otelcol = goTool('HELIOS_OTELCOL_BIN', 'otelcol');

function run(file: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolvePromise, reject) =>
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolvePromise(`${stdout}${stderr}`))),
  );
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('real OTLP/gRPC clients against helios up', () => {
  let app: HeliosApp;
  let grpcPort: number;
  const published: HeliosEvent[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-grpc-clients-'));
    const config = resolveConfig({ dataDir: dir, log: { level: 'silent' }, gateway: { host: '127.0.0.1', port: 0, otlpPort: 0, otlpGrpcPort: 0 }, plugins: { detectors: [], reporters: [] } });
    app = await startHelios({ config, baseDir: dir, logger: silentLogger() });
    grpcPort = app.otlpGrpcPort!;
    // Every publish, as the gateway handed it to the bus (a second consumer group beside storage's).
    app.bus.subscribe<HeliosEvent>(Topics.events, 'grpc-clients-test', async (records) => void published.push(...records.map((r) => r.value)));
  }, 120_000);
  afterAll(() => app?.stop());

  const storedCount = (service: string) => app.store.countEvents({ service });
  async function settledCount(service: string, expected: number): Promise<number> {
    await until(async () => (await storedCount(service)) >= expected, `${expected} ${service} events stored`);
    await app.settle();
    return storedCount(service);
  }

  it.runIf(pythonGrpcExporter() || CI)('stores spans and logs from the Python SDK gRPC exporters once, a retried batch included', async () => {
    const output = await run('python3', [join(root, 'gateway/src/python/otel_export.py'), 'grpc', `127.0.0.1:${grpcPort}`, '-', 'py-grpc']);
    expect(JSON.parse(output.trim().split('\n').pop()!)).toMatchObject({ traces_ok: true });
    expect(await settledCount('py-grpc', 3)).toBe(3); // 2 spans (exported twice) + 1 log
    const spans = published.filter((e) => e.service === 'py-grpc' && e.kind === 'span');
    expect(spans).toHaveLength(4);
    expect(new Set(spans.map((e) => e.id)).size).toBe(2);
    expect(spans.find((e) => e.message === 'SELECT orders')).toMatchObject({ tenant: 'default', level: 'ERROR', error_code: 'DB_TIMEOUT', attributes: { 'span.kind': 'client' } });
    expect(spans.find((e) => e.message === 'GET /orders/{id}')).toMatchObject({ endpoint: '/orders/{id}', status_code: 200, level: 'INFO' });
    expect(published.filter((e) => e.service === 'py-grpc' && e.kind === 'log')).toMatchObject([{ level: 'ERROR', message: 'payment declined', endpoint: '/pay' }]);
  }, 180_000);

  it.runIf(telemetrygen !== undefined || CI)('stores the spans of telemetrygen in its default gRPC mode', async () => {
    expect(telemetrygen, 'telemetrygen (bash scripts/telemetrygen.sh)').toBeDefined();
    await run(telemetrygen!, ['traces', '--otlp-insecure', '--traces', '50', '--rate', '0', '--service', 'tg-direct', '--otlp-endpoint', `127.0.0.1:${grpcPort}`]);
    // telemetrygen sends each trace as a parent and one child span.
    expect(await settledCount('tg-direct', 100)).toBe(100);
    const spans = published.filter((e) => e.service === 'tg-direct');
    expect(new Set(spans.map((e) => e.trace_id)).size).toBe(50);
    expect(spans.every((e) => e.kind === 'span' && /^[0-9a-f]{32}$/.test(e.trace_id ?? '') && e.latency_ms !== null)).toBe(true);
  }, 180_000);

  it.runIf((telemetrygen !== undefined && otelcol !== undefined) || CI)('stores what a Collector forwards with its stock otlp exporter: gzip (its default), zstd and snappy', async () => {
    expect(otelcol, 'the Collector (bash scripts/otelcol.sh)').toBeDefined();
    expect(telemetrygen, 'telemetrygen (bash scripts/telemetrygen.sh)').toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'helios-otelcol-front-'));
    const collectorPort = 20_000 + Math.floor(Math.random() * 20_000);
    const config = join(dir, 'otelcol.yaml');
    writeFileSync(config, `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${collectorPort}
exporters:
  otlp:
    endpoint: 127.0.0.1:${grpcPort}
    tls:
      insecure: true
  otlp/zstd:
    endpoint: 127.0.0.1:${grpcPort}
    compression: zstd
    tls:
      insecure: true
  otlp/snappy:
    endpoint: 127.0.0.1:${grpcPort}
    compression: snappy
    tls:
      insecure: true
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
    logs:
      receivers: [otlp]
      exporters: [otlp/zstd]
    metrics:
      receivers: [otlp]
      exporters: [otlp/snappy]
`);
    const collector = execFile(otelcol!, ['--config', `file:${config}`]);
    let collectorLog = '';
    collector.stderr?.on('data', (chunk: Buffer) => (collectorLog += chunk.toString()));
    try {
      await until(async () => collectorLog.includes('Everything is ready'), 'the Collector to start', 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${collectorLog}`);
      });
      await run(telemetrygen!, ['traces', '--otlp-insecure', '--traces', '40', '--rate', '0', '--service', 'tg-collector', '--otlp-endpoint', `127.0.0.1:${collectorPort}`]);
      await run(telemetrygen!, ['logs', '--otlp-insecure', '--logs', '25', '--rate', '0', '--service', 'tg-collector-logs', '--otlp-endpoint', `127.0.0.1:${collectorPort}`]);
      await run(telemetrygen!, ['metrics', '--otlp-insecure', '--metrics', '20', '--rate', '0', '--service', 'tg-collector-metrics', '--otlp-endpoint', `127.0.0.1:${collectorPort}`]);
      expect(await settledCount('tg-collector', 80)).toBe(80);
      expect(await settledCount('tg-collector-logs', 25)).toBe(25);
      expect(published.filter((e) => e.service === 'tg-collector-logs').every((e) => e.kind === 'log')).toBe(true);
      // A refused export is only logged by the Collector (and dropped): its log says why if the points never come.
      const metricPoints = () => published.filter((e) => e.service === 'tg-collector-metrics');
      await until(async () => metricPoints().length >= 20, '20 metric points published').catch((err: Error) => {
        throw new Error(`${err.message} (got ${metricPoints().length})\n${collectorLog}`);
      });
      expect(await settledCount('tg-collector-metrics', 20)).toBe(20);
      expect(metricPoints().every((e) => e.kind === 'metric')).toBe(true);
    } finally {
      collector.kill('SIGTERM');
    }
  }, 180_000);
});
