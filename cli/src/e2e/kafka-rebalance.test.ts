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

  /**
   * The gateway, storage and report roles here, two detect workers as processes, on a namespace of their
   * own; event time starts 40 minutes ago so the windows close as fast as events are posted.
   */
  async function startRig(detectors: unknown[], files: Record<string, string> = {}) {
    const test = await openTestStore();
    cleanup.push(() => test.close());
    const dir = mkdtempSync(join(tmpdir(), 'helios-kafka-rebalance-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
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
      plugins: { detectors },
    };
    const app = await startHelios({ config: resolveConfig(raw), baseDir: dir, roles: ['gateway', 'storage', 'report'], store: test.store, logger: silentLogger() });
    cleanup.push(() => app.stop());
    const workers = [await spawnHelios(['worker', '--role', 'detect'], raw, dir), await spawnHelios(['worker', '--role', 'detect'], raw, dir)];
    for (const w of workers) cleanup.push(() => w.kill9());
    const base = Math.floor((Date.now() - 40 * MIN) / MIN) * MIN;
    const anomalies = async () => (await test.store.listAnomalies({ service: 'pay' })).items;
    /** The worker that raised the incident, SIGKILLed once its offsets are committed; the other one. */
    const killOwner = async () => {
      const owner = workers.find((w) => logLines(w).some((l) => l.msg === 'anomaly detected'));
      expect(owner, 'one worker raised the anomaly').toBeDefined();
      await new Promise((r) => setTimeout(r, 1000)); // its offsets committed (after each batch)
      await owner!.kill9();
      return { survivor: workers.find((w) => w !== owner)!, killedAt: Date.now() };
    };
    return { test, app, base, anomalies, killOwner };
  }

  it('the survivor takes the series over: no second incident, one resolution, verdicts within a minute of the takeover', async () => {
    const { app, base, anomalies, killOwner } = await startRig([{ use: './error-share.mjs' }], { 'error-share.mjs': ERROR_SHARE_PLUGIN });
    // Twelve events a minute; every event of a failing minute fails.
    const postMinute = async (m: number, failing: boolean) => {
      const events = Array.from({ length: 12 }, (_, i) => ({
        service: 'pay', timestamp: base + m * MIN + i * 5000, latency_ms: 20, endpoint: '/p', ...(failing ? { level: 'ERROR', status_code: 503 } : {}),
      }));
      expect((await postEvents(app.port, events)).status).toBe(202);
    };

    for (let m = 0; m < 12; m++) await postMinute(m, m >= 9);
    await waitFor(async () => (await anomalies()).length === 1, 'the incident to open');
    const [incident] = await anomalies();
    const { survivor, killedAt } = await killOwner();

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

  it('a metric series goes on with the killed owner\'s calibrated judge: its incident continues and resolves within the few windows a relearning judge would still be learning', async () => {
    const { app, base, anomalies, killOwner } = await startRig([{ use: '@helios/detector-robust-zscore' }]);
    /** A gauge every 10 s around 100 (JSON events of kind metric); `shifted` minutes at 150. */
    const postMinute = async (m: number, shifted: boolean) => {
      const points = Array.from({ length: 6 }, (_, i) => ({
        service: 'pay', kind: 'metric', message: 'queue.depth', timestamp: base + m * MIN + i * 10_000,
        attributes: { 'metric.name': 'queue.depth', 'metric.type': 'gauge', 'metric.value': (shifted ? 150 : 100) + 2 * Math.sin(m * 6 + i) },
      }));
      expect((await postEvents(app.port, points)).status).toBe(202);
    };
    for (let m = 0; m < 17; m++) await postMinute(m, m >= 15);
    await waitFor(async () => (await anomalies()).length === 1, 'the metric incident to open');
    const [incident] = await anomalies();
    expect(incident!.metric?.name).toBe('queue.depth');
    const { survivor } = await killOwner();
    // Four more minutes: one still shifted, three normal. A judge starting over would need five fresh
    // observations (firstVerdictAfter) before any verdict, so it could not resolve the incident in these.
    for (let m = 17; m < 21; m++) await postMinute(m, m < 18);
    await waitFor(() => logLines(survivor).some((l) => l.msg === 'incident resolved: windows back to normal'), 'the survivor to resolve the metric incident', 120_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await anomalies()).map((a) => a.id)).toEqual([incident!.id]);
    const lines = logLines(survivor);
    expect(lines.find((l) => l.msg === 'series taken over with an open incident')?.incident).toBe(incident!.id);
    expect(lines.filter((l) => l.msg === 'incident resolved: windows back to normal').map((l) => l.incident)).toEqual([incident!.id]);
    expect(await survivor.stop()).toBe(0);
  }, 240_000);
});
