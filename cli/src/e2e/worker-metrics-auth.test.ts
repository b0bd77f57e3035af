import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig, silentLogger } from '@helios/core';
import { startHelios } from '../app.js';
import { brokers, runNamespace } from './kafka-testkit.js';

/**
 * A worker process (no gateway) serves /metrics on its own port: the same access rule as the gateway's,
 * so a split deployment does not leak every tenant's service names through its workers.
 */
describe('worker /metrics access', () => {
  it.runIf(process.env['CI'] === 'true')('has a broker in CI', () => {
    expect(brokers, 'HELIOS_KAFKA_BROKERS must be set when CI=true').not.toHaveLength(0);
  });

  it.runIf(brokers.length > 0)('requires a metrics key when API-key auth is on; /healthz and /readyz stay open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-worker-metrics-'));
    const namespace = runNamespace('worker-metrics');
    const config = resolveConfig({
      dataDir: dir,
      gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, auth: { enabled: true, keys: [{ key: 'tenant-key-1', tenant: 'acme' }] } },
      metrics: { keys: ['scrape-key-1'] },
      bus: { kind: 'kafka', kafka: { brokers, namespace, topics: { 'helios.events': { partitions: 1 }, 'helios.anomalies': { partitions: 1 }, 'helios.reports': { partitions: 1 }, 'helios.dead-letter': { partitions: 1 } } } },
      plugins: { detectors: [], reporters: [] },
    });
    const worker = await startHelios({ config, baseDir: dir, roles: ['detect'], logger: silentLogger() });
    try {
      const url = `http://127.0.0.1:${worker.port}`;
      const none = await fetch(`${url}/metrics`);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('HLS_ERR_UNAUTHORIZED');
      expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer tenant-key-1' } })).status).toBe(401);
      const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-key-1' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('helios_metrics_series_overflow_total');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      await worker.stop();
    }
  });
});
