import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { resolveConfig, silentLogger, type EventInput, type IncidentReport } from '@helios/core';
import { withChartImages } from '@helios/plugins';
import { startHelios, type HeliosApp } from '../app.js';
import { DEMO_SERVICES, minuteOfTraffic, seededRandom } from '../traffic.js';

const root = resolve(import.meta.dirname, '..', '..', '..');

/**
 * The walking skeleton end to end, over real HTTP: normal traffic then an incident go in through the
 * gateway; the incident report comes out of the store and the file reporter. A detector that throws on
 * every window and a reporter that hangs are configured too: the pipeline must not notice them.
 */
describe('pipeline end to end', () => {
  let app: HeliosApp;
  let dir: string;
  const reports: IncidentReport[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'helios-e2e-'));
    writeFileSync(join(dir, 'throwing-detector.mjs'), `export default { kind: 'detector', name: 'throwing-detector', version: '1.0.0', apiVersion: '^1.0.0',
      setup() { return { detect() { throw new Error('I always fail'); } }; } };`);
    writeFileSync(join(dir, 'hanging-reporter.mjs'), `export default { kind: 'reporter', name: 'hanging-reporter', version: '1.0.0', apiVersion: '^1.0.0',
      setup() { return { deliver() { return new Promise(() => {}); } }; } };`);
    const config = resolveConfig({
      dataDir: dir,
      gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1 },
      plugins: {
        timeoutMs: 500,
        detectors: [{ use: './throwing-detector.mjs' }, { use: '@helios/detector-isolation-forest' }],
        reporters: [{ use: '@helios/reporter-template' }, { use: './hanging-reporter.mjs' }, { use: '@helios/reporter-file' }],
      },
    });
    app = await startHelios({ config, baseDir: dir, logger: silentLogger(), onReport: (r) => reports.push(r) });
  });
  afterAll(() => app?.stop());

  it('turns an incident sent over HTTP into a stored, delivered five-section report naming the service and the features', async () => {
    const random = seededRandom(11);
    const minutes = 200;
    const start = Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000;
    for (let m = 0; m < minutes; m += 10) {
      const batch: EventInput[] = [];
      for (let k = m; k < m + 10; k++) {
        for (const profile of DEMO_SERVICES) batch.push(...minuteOfTraffic(profile, start + k * 60_000, random, profile.service === 'checkout' && k >= 160 && k < 172 ? 'error-burst' : undefined));
      }
      const res = await fetch(`http://127.0.0.1:${app.port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
      expect(res.status).toBe(202);
    }
    await app.flushDetection();
    for (let i = 0; i < 100 && !reports.some((r) => r.service === 'checkout'); i++) await new Promise((r) => setTimeout(r, 100));
    await app.settle();

    // The incident (minutes 160-172) is reported; false-alarm rates are measured by `helios eval`, not here.
    const incidentStart = start + 160 * 60_000;
    const report = reports.find((r) => r.service === 'checkout' && r.markdown.includes('DB_TIMEOUT'));
    expect(report, 'a report for the checkout incident').toBeDefined();
    const anomaly = (await app.store.listAnomalies({ limit: 100 })).items.find((a) => a.id === report!.anomalyId)!;
    expect(anomaly.windowEnd).toBeGreaterThan(incidentStart);
    expect(anomaly.windowEnd - incidentStart).toBeLessThanOrEqual(5 * 60_000); // flagged within minutes of the start
    for (const section of ['## Executive Summary', '## Root Cause Analysis', '## Impact Assessment', '## Recommended Actions', '## Prevention Measures']) expect(report!.markdown).toContain(section);
    expect(report!.sections.executiveSummary).toContain('checkout');
    expect(report!.sections.executiveSummary).toMatch(/error rate/);
    expect(report!.sections.rootCauseAnalysis).toContain('DB_TIMEOUT');
    expect(report!.sections.impactAssessment).toContain('/api/payments');

    // Stored and served by the API, with every delivery recorded: the file reporter's and the hanging one's timeout.
    const fromApi = (await (await fetch(`http://127.0.0.1:${app.port}/api/v1/reports/${report!.id}`)).json()) as IncidentReport;
    expect(fromApi.anomalyId).toBe(report!.anomalyId);
    const byReporter = Object.fromEntries(fromApi.deliveries.map((d) => [d.reporter, d]));
    expect(byReporter['@helios/reporter-file']).toMatchObject({ status: 'delivered' });
    expect(byReporter['hanging-reporter']).toMatchObject({ status: 'failed', error: expect.stringMatching(/did not finish within 500 ms/) });
    // The file is the report's Markdown with each chart linked as an image, the SVG written beside it.
    const location = byReporter['@helios/reporter-file']!.location!;
    const images = (report!.charts ?? []).map((c) => ({ title: c.title, file: `${basename(location, '.md')}.${c.feature.replace(/[^a-zA-Z0-9_-]+/g, '_')}.svg` }));
    expect(images.length).toBeGreaterThan(0);
    expect(images.length).toBeLessThanOrEqual(4);
    expect(readFileSync(location, 'utf8')).toBe(withChartImages(report!.markdown, images));
    for (const image of images) expect(readFileSync(join(dirname(location), image.file), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    const anomalies = (await (await fetch(`http://127.0.0.1:${app.port}/api/v1/anomalies?limit=10`)).json()) as { items: Array<{ id: string }> };
    expect(anomalies.items.map((a) => a.id)).toContain(report!.anomalyId);

    // The throwing detector failed on every window, counted, without costing the other detector anything.
    const throwing = app.detectors.find((d) => d.name === 'throwing-detector')!;
    expect(throwing.guard.health.errors).toBeGreaterThan(100);
    expect(await app.store.countEvents()).toBeGreaterThan(50_000);
    const metrics = await app.metrics.metrics();
    expect(metrics).toMatch(/helios_plugin_errors_total\{plugin="throwing-detector",hook="detect",reason="error"\} \d+/);
  }, 120_000);
});

describe('helios CLI as a process', () => {
  it('`helios up` logs one ready line, accepts traffic, and exits 0 on SIGTERM after draining', async () => {
    const { spawn } = await import('node:child_process');
    const dataDir = mkdtempSync(join(tmpdir(), 'helios-up-'));
    const child = spawn(process.execPath, [join(root, 'cli', 'dist', 'bin', 'helios.js'), 'up', '--port', '0', '--otlp-port=-1', '--otlp-grpc-port=-1', '--data-dir', dataDir], {
      env: { ...process.env, HELIOS_PORT: '', HELIOS_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir,
    });
    // A failed or timed-out run must not leave the process serving after the suite.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    const ready = new Promise<{ port: number }>((resolveReady, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        for (const line of stderr.split('\n')) {
          if (line.includes('helios ready')) resolveReady(JSON.parse(line) as { port: number });
        }
      });
      child.on('exit', (code) => reject(new Error(`helios up exited early (${code}): ${stderr}`)));
    });
    const { port } = await ready;
    expect(stderr.split('\n').filter((l) => l.includes('helios ready'))).toHaveLength(1);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"service":"cli-test"}' });
    expect(res.status).toBe(202);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"stopped"');
  }, 120_000);
});
