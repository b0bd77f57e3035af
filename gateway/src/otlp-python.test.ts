import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.fixture.js';

/** The Python SDK and its OTLP/HTTP exporter, when installed (`pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http`). */
function pythonOtelAvailable(): boolean {
  try {
    execFileSync('python3', ['-c', 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// In CI the Python exporter is required: a missing package fails the suite instead of skipping it.
const run = pythonOtelAvailable() || process.env['CI'] === 'true';
const script = fileURLToPath(new URL('./python/otel_export.py', import.meta.url));

describe.runIf(run)('OTLP/HTTP with the OpenTelemetry Python SDK exporter', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('uws', { otlpPort: 0, auth: { enabled: true, keys: [{ key: 'python-key-1', tenant: 'py' }] } });
  });
  afterAll(() => h.gateway.stop());

  it('takes gzip protobuf spans (sent twice, same ids) and logs from the Python exporters on the OTLP port', async () => {
    const output = await new Promise<string>((resolve, reject) =>
      execFile('python3', [script, 'http', `http://127.0.0.1:${h.otlpPort!}`, 'python-key-1', 'py-orders'], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(JSON.parse(output.trim().split('\n').pop()!)).toMatchObject({ traces_ok: true });
    await h.bus.drain(5000);
    const spans = h.received.filter((e) => e.kind === 'span');
    // The batch was exported twice: both copies carry the same ids (the store keeps one of each).
    expect(spans).toHaveLength(4);
    expect(new Set(spans.map((e) => e.id)).size).toBe(2);
    expect(spans.find((e) => e.message === 'SELECT orders')).toMatchObject({ service: 'py-orders', tenant: 'py', level: 'ERROR', error_code: 'DB_TIMEOUT' });
    expect(spans.find((e) => e.message === 'GET /orders/{id}')).toMatchObject({ endpoint: '/orders/{id}', status_code: 200, level: 'INFO' });
    const logs = h.received.filter((e) => e.kind === 'log');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ service: 'py-orders', tenant: 'py', level: 'ERROR', message: 'payment declined', endpoint: '/pay' });
  });
});
