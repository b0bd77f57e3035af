import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, resolveConfig, silentLogger as quietLogger } from '@helios/core';
import { startHelios } from '../app.js';
import { brokers, openTestStore, pgUrl, postEvents, runNamespace, spawnHelios, waitFor, type HeliosChild } from './kafka-testkit.js';

const silentLogger = () => (process.env['HELIOS_TEST_LOG'] ? createLogger({ level: 'info' }) : quietLogger());
const MIN = 60_000;

describe('kafka rebalance environment', () => {
  it.runIf(process.env['CI'] === 'true')('has a broker and PostgreSQL in CI', () => {
    expect(brokers, 'HELIOS_KAFKA_BROKERS must be set when CI=true').not.toHaveLength(0);
    expect(pgUrl, 'HELIOS_PG_URL must be set when CI=true').toBeDefined();
  });
});

/** Anomalous when more than 30 % of a window's events fail; keeps nothing itself, so the incident state is the runtime's. */
const ERROR_SHARE_PLUGIN = `export default { kind: 'detector', name: 'error-share', version: '1.0.0', apiVersion: '^1.0.0',
  setup() { return { detect(w) { const bad = w.features.error_rate > 0.3; return { score: bad ? 2 : 0, threshold: 1, anomalous: bad, explanation: [], modelVersion: 'v1' }; } }; } };\n`;

interface LogLine {
  msg?: string;
  time?: number;
  incident?: string;
  service?: string;
}

const logLines = (child: HeliosChild): LogLine[] => child.stderr().split('\n').flatMap((line) => {
  try {
    return [JSON.parse(line) as LogLine];
  } catch {
    return [];
  }
});

/**
 * Two detect workers (`helios worker --role detect`, separate processes) share the events partitions on the
 * shared broker, with the gateway, storage and report roles in this process and PostgreSQL as the store.
 * The worker judging a series is SIGKILLed while the series' incident is open: the other one takes the
 * partition over after the session timeout and goes on with the same incident.
 */
describe.runIf(brokers.length > 0 && pgUrl !== undefined)('detect workers: a rebalance mid-incident', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('the survivor takes the series over: no second incident, one resolution, verdicts within a minute of the takeover', async () => {
    const test = await openTestStore();
    cleanup.push(() => test.close());
    const dir = mkdtempSync(join(tmpdir(), 'helios-kafka-rebalance-'));
    writeFileSync(join(dir, 'error-share.mjs'), ERROR_SHARE_PLUGIN);
    const namespace = runNamespace('rebalance');
    const raw = {
      dataDir: dir, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1 },
      bus: {
        kind: 'kafka',
        kafka: {
          brokers, namespace, sessionTimeoutMs: 6000,
          topics: { 'helios.events': { partitions: 2 }, 'helios.anomalies': { partitions: 1 }, 'helios.reports': { partitions: 1 }, 'helios.dead-letter': { partitions: 1 } },
        },
      },
      store: { kind: 'postgres', url: test.url, batchSize: 200, flushIntervalMs: 20, maintenanceIntervalMs: 3_600_000 },
      detection: { windowMs: 2 * MIN, hopMs: MIN, allowedLatenessMs: 0, idleFlushMs: 1000, confirmWindows: 1, resolveAfterWindows: 2, gapAfterMs: 0, stateSaveIntervalMs: 1000 },
      plugins: { detectors: [{ use: './error-share.mjs' }] },
    };
    const app = await startHelios({ config: resolveConfig(raw), baseDir: dir, roles: ['gateway', 'storage', 'report'], store: test.store, logger: silentLogger() });
    cleanup.push(() => app.stop());
    const workers = [await spawnHelios(['worker', '--role', 'detect'], raw, dir), await spawnHelios(['worker', '--role', 'detect'], raw, dir)];
    for (const w of workers) cleanup.push(() => w.kill9());

    // Event time: minutes of the recent past, twelve events a minute; every event of a failing minute fails.
    const base = Math.floor((Date.now() - 40 * MIN) / MIN) * MIN;
    const postMinute = async (m: number, failing: boolean) => {
      const events = Array.from({ length: 12 }, (_, i) => ({
        service: 'pay', timestamp: base + m * MIN + i * 5000, latency_ms: 20, endpoint: '/p', ...(failing ? { level: 'ERROR', status_code: 503 } : {}),
      }));
      expect((await postEvents(app.port, events)).status).toBe(202);
    };
    const anomalies = async () => (await test.store.listAnomalies({ service: 'pay' })).items;

    for (let m = 0; m < 12; m++) await postMinute(m, m >= 9);
    await waitFor(async () => (await anomalies()).length === 1, 'the incident to open');
    const [incident] = await anomalies();
    const owner = workers.find((w) => logLines(w).some((l) => l.msg === 'anomaly detected'));
    expect(owner, 'one worker raised the anomaly').toBeDefined();
    const survivor = workers.find((w) => w !== owner)!;
    await new Promise((r) => setTimeout(r, 1000)); // its offsets committed (after each batch)
    await owner!.kill9();
    const killedAt = Date.now();

    // The incident goes on for two minutes, then the service recovers.
    for (let m = 12; m < 20; m++) await postMinute(m, m < 14);
    await waitFor(() => logLines(survivor).some((l) => l.msg === 'incident resolved: windows back to normal'), 'the survivor to resolve the incident', 120_000);
    await new Promise((r) => setTimeout(r, 3000)); // anything else it would raise reaches the store by now

    expect((await anomalies()).map((a) => a.id)).toEqual([incident!.id]); // not opened a second time
    const lines = logLines(survivor);
    expect(lines.filter((l) => l.msg === 'incident resolved: windows back to normal').map((l) => l.incident)).toEqual([incident!.id]);
    const takeover = lines.find((l) => l.msg === 'series taken over with an open incident');
    expect(takeover?.incident).toBe(incident!.id);
    // Its first window of the series was judged within a minute of the kill (6 s of it the session timeout).
    expect(takeover!.time! - killedAt).toBeLessThan(60_000);
    console.info(`rebalance: survivor judged the series ${takeover!.time! - killedAt} ms after the owner was killed`);
    expect(await survivor.stop()).toBe(0);
  }, 240_000);
});
