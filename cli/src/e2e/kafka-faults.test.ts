import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, resolveConfig, silentLogger, Topics, type HeliosEvent } from '@helios/core';
import { createKafkaBus } from '@helios/bus';
import { startHelios } from '../app.js';
import { brokers, kafkaScript, openTestStore, ownBroker, postEvents, runNamespace, spawnHelios, storedCopies, waitFor } from './kafka-testkit.js';

/** Spool segment files in a spool folder and its gateway threads' folders. */
const spoolSegments = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.spool'));

/** helios_spool_records_total of every gateway thread, from /metrics. */
async function spoolRecords(port: number): Promise<{ appended: number; replayed: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (outcome: string) => Number(new RegExp(`^helios_spool_records_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { appended: value('appended'), replayed: value('replayed') };
}

const logger = () => (process.env['HELIOS_TEST_LOG'] ? createLogger({ level: 'info' }) : silentLogger());

/**
 * Broker and gateway crashes. These SIGKILL a broker, so they run one of their own on port 9192
 * (scripts/kafka.sh with KAFKA_PORT), never the shared one other suites use at the same time.
 */
describe('kafka fault suite environment', () => {
  it.runIf(process.env['CI'] === 'true')('has the broker script in CI', () => {
    expect(kafkaScript, 'HELIOS_KAFKA_SCRIPT must be set when CI=true').toBeDefined();
    expect(brokers).not.toHaveLength(0);
  });
});

describe.runIf(brokers.length > 0 && kafkaScript !== undefined)('delivery through broker and gateway crashes', () => {
  const broker = ownBroker(Number(process.env['HELIOS_KAFKA_FAULT_PORT'] ?? 9192));
  const cleanup: Array<() => Promise<unknown>> = [];
  const busConfig = (namespace: string, spoolDir: string) => ({
    kind: 'kafka',
    kafka: { brokers: [broker.address], namespace, topics: { 'helios.events': { partitions: 4 }, 'helios.anomalies': { partitions: 1 }, 'helios.reports': { partitions: 1 }, 'helios.dead-letter': { partitions: 1 } } },
    // A short handoff: requests waiting on a dead broker go to the spool after 1 s.
    spool: { enabled: true, dir: spoolDir, handoffTimeoutMs: 1000 },
  });

  beforeAll(async () => {
    await broker.start();
  }, 180_000);
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await broker.clean();
  }, 120_000);

  // Two gateway threads: each produces on its own Kafka connection and spools into its own folder.
  it.each([1, 2])('stores every 2xx exactly once across a broker SIGKILL and restart under steady load; refusals are only 429/503 (gateway.threads %i)', async (threads) => {
    const test = await openTestStore();
    cleanup.push(() => test.close());
    const dir = mkdtempSync(join(tmpdir(), 'helios-kafka-kill9-'));
    const config = resolveConfig({
      dataDir: dir, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, threads }, bus: busConfig(runNamespace('kill9'), join(dir, 'spool')), plugins: { detectors: [], reporters: [] },
    });
    const app = await startHelios({ config, baseDir: dir, roles: ['gateway', 'storage'], store: test.store, logger: logger() });
    cleanup.push(() => app.stop());
    // Every thread's spool, merged on /metrics.
    const spool = () => spoolRecords(app.port);
    if (threads > 1) {
      // Threads share the port among themselves only: a second Helios on it is refused.
      const second = resolveConfig({ ...config, gateway: { ...config.gateway, port: app.port } });
      await expect(startHelios({ config: second, baseDir: dir, roles: ['gateway'], logger: logger() })).rejects.toMatchObject({ code: 'HLS_ERR_PORT_IN_USE' });
    }

    const acked: string[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const poster = async (w: number) => {
      for (let request = 0; !stop; request++) {
        const res = await postEvents(app.port, Array.from({ length: 20 }, (_, i) => ({ service: `svc-${(w * 5 + i) % 11}`, message: 'steady' })));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        acked.push(...res.ids);
        // Steady, not flat out: about 1,600 events/s, so the outage and the catch-up stay short.
        await new Promise((r) => setTimeout(r, res.status === 202 ? 50 : 100));
      }
    };
    const posters = Array.from({ length: 4 }, (_, w) => poster(w));
    await waitFor(() => acked.length >= 4000, '4,000 acknowledged events before the kill');
    await broker.kill9();
    const atKill = acked.length;
    await waitFor(() => acked.length >= atKill + 2000, '2,000 events acknowledged while the broker is down');
    const duringOutage = await spool();
    await broker.start();
    const atRestart = acked.length;
    await waitFor(() => acked.length >= atRestart + 4000, '4,000 more acknowledged events after the restart');
    stop = true;
    await Promise.all(posters);

    await waitFor(async () => (await storedCopies(test.client, acked)).size === acked.length, 'every acknowledged event stored', 120_000);
    const copies = await storedCopies(test.client, acked);
    expect(copies.size).toBe(acked.length);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    // While the broker was down the 2xx came from the durable spool; anything refused was 429/503, nothing else.
    expect(duringOutage.appended).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((s) => s !== 202 && s !== 429 && s !== 503)).toEqual([]);
    const after = await spool();
    expect(after.replayed).toBeGreaterThanOrEqual(after.appended);
    console.info(`broker kill9 (threads ${threads}): ${acked.length} acknowledged, all stored once; spooled ${after.appended}, replayed ${after.replayed}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 240_000);

  // With two threads the restart runs one: the second thread's spool folder is replayed by the first.
  it.each([[1, 1], [2, 1]])('delivers everything a SIGKILLed gateway acknowledged from its spool after the restart (gateway.threads %i, then %i)', async (threads, restartThreads) => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-kafka-gwkill-'));
    const namespace = runNamespace('gateway-kill');
    const spoolDir = join(dir, 'spool');
    const raw = { dataDir: ':memory:', gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, threads }, bus: busConfig(namespace, spoolDir), plugins: { detectors: [], reporters: [] } };

    let gateway = await spawnHelios(['up', '--role', 'gateway'], raw, dir);
    cleanup.push(() => gateway.kill9());
    const acked: string[] = [];
    for (let request = 0; request < 10; request++) {
      const res = await postEvents(gateway.port, Array.from({ length: 50 }, (_, i) => ({ service: `svc-${i % 3}`, message: 'before' })));
      expect(res.status).toBe(202);
      acked.push(...res.ids);
    }
    await broker.kill9();
    // 16 at once: separate connections, which the kernel spreads over the gateway's threads.
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(Array.from({ length: 16 }, () => postEvents(gateway.port, Array.from({ length: 50 }, (_, i) => ({ service: `svc-${i % 3}`, message: 'spooled' })))));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
      acked.push(...answers.flatMap((a) => a.ids));
    }
    expect(spoolSegments(spoolDir).length, `spool folder: ${readdirSync(spoolDir).join(', ')}; gateway log: ${gateway.stderr().slice(-3000)}`).toBeGreaterThan(0);
    if (threads > 1) expect(spoolSegments(join(spoolDir, 'thread-1')).length, 'the second thread spooled too').toBeGreaterThan(0);
    await gateway.kill9();
    await broker.start();

    // An independent reader of the run's events topic.
    const reader = await createKafkaBus({ brokers: [broker.address], namespace, clientId: 'helios-test-reader' });
    cleanup.push(() => reader.close(5000));
    const seen = new Map<string, number>();
    reader.subscribe<HeliosEvent>(Topics.events, 'test-reader', async (records) => {
      for (const r of records) seen.set(r.value.id, (seen.get(r.value.id) ?? 0) + 1);
    });
    gateway = await spawnHelios(['up', '--role', 'gateway'], { ...raw, gateway: { ...raw.gateway, threads: restartThreads } }, dir);
    await waitFor(() => acked.every((id) => seen.has(id)), 'every acknowledged event on Kafka after the gateway restart', 120_000);
    expect(acked.filter((id) => !seen.has(id))).toEqual([]);
    // The stranded thread's folder goes too, once its replay closed (after its last segment was removed).
    await waitFor(() => spoolSegments(spoolDir).length === 0 && !readdirSync(spoolDir).some((name) => name.startsWith('thread-')), 'the replayed spools and the stranded thread folder to be removed');
    expect(await gateway.stop()).toBe(0);
  }, 240_000);
});
