import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig, silentLogger } from '@helios/core';
import { startHelios, type HeliosApp } from '../app.js';
import { brokers, postEvents, runNamespace, waitFor } from './kafka-testkit.js';

const MIN = 60_000;

/** The value of one Prometheus counter line (0 when absent). */
function counter(text: string, pattern: RegExp): number {
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/**
 * Split roles over real Kafka (HELIOS_KAFKA_BROKERS; mandatory in CI): a gateway-only app and a
 * detect-only app, each with its own Kafka clients, as `helios up --role gateway` and
 * `helios worker --role detect` would run. A capacity refusal at the gateway must reach the detect role
 * as a telemetry gap, so the windows around it are not judged.
 */
describe.runIf(brokers.length > 0)('telemetry gaps across processes over kafka', () => {
  const apps: HeliosApp[] = [];
  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop().catch(() => undefined);
  });

  it('a refusal at a gateway-only process leaves the windows around it unjudged in a detect-only process', async () => {
    const namespace = runNamespace('gaps');
    const bus = { kind: 'kafka', kafka: { brokers, namespace, topics: { 'helios.events': { partitions: 2 }, 'helios.anomalies': { partitions: 1 }, 'helios.reports': { partitions: 1 } } } };
    const raw = (dir: string) => ({
      dataDir: dir, bus, plugins: { detectors: [], reporters: [] },
      // A small decompression budget: one large gzip body is refused with 503 HLS_ERR_OVERLOADED (capacity).
      gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, maxInflatedBytes: 256 * 1024, maxInFlightBodyBytes: 200 * 1024 },
      detection: { idleFlushMs: 0 },
    });
    const detectDir = mkdtempSync(join(tmpdir(), 'helios-gaps-detect-'));
    const detect = await startHelios({ config: resolveConfig(raw(detectDir)), baseDir: detectDir, roles: ['detect'], logger: silentLogger() });
    apps.push(detect);
    const gatewayDir = mkdtempSync(join(tmpdir(), 'helios-gaps-gateway-'));
    const gateway = await startHelios({ config: resolveConfig(raw(gatewayDir)), baseDir: gatewayDir, roles: ['gateway'], logger: silentLogger() });
    apps.push(gateway);

    const big = gzipSync(JSON.stringify({ service: 'gz', message: 'x'.repeat(60_000), attributes: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'y'.repeat(1500)])) }));
    const refusedAt = Date.now();
    const refused = await fetch(`http://127.0.0.1:${gateway.port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: big });
    expect(refused.status).toBe(503);
    await waitFor(async () => counter(await detect.metrics.metrics(), /^helios_detection_gaps_received_total\{source="gateway"\}/) === 1, 'the gap record reached the detect process');

    // Eight minutes of steady traffic up to the refusal: windows ending before refusedAt - hop are judged,
    // later ones overlap the gap [refusedAt - 1 min, refusedAt + 1 min) and are not.
    const first = Math.floor(refusedAt / MIN) * MIN - 8 * MIN;
    for (let m = 0; m < 9; m++) {
      const events = Array.from({ length: 20 }, (_, i) => ({ service: 'svc', timestamp: Math.min(first + m * MIN + i * 3000, refusedAt), message: 'ok', metadata: { latency_ms: 10 } }));
      expect((await postEvents(gateway.port, events)).status).toBe(202);
    }
    expect(await gateway.settle(30_000)).toBe(true);
    await detect.flushDetection();

    const text = await detect.metrics.metrics();
    const judged = counter(text, /^helios_detection_windows_total\{service="svc"\}/);
    const unjudged = counter(text, /^helios_detection_windows_incomplete_total\{service="svc"\}/);
    // Window ends are whole minutes; the first window is [first, first + 5 min).
    const ends = Array.from({ length: 5 }, (_, i) => first + (5 + i) * MIN).filter((end) => end <= refusedAt);
    expect(judged + unjudged).toBe(ends.length);
    expect(unjudged).toBe(ends.filter((end) => end > refusedAt - MIN).length);
    expect(unjudged).toBeGreaterThanOrEqual(1);
    expect(judged).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
