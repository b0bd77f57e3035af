import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createHeliosClient, type HeliosClient, type HeliosOptions } from '../src/index.js';
import { RealHelios } from './real-helios.js';
import { waitFor } from './fake-gateway.js';

/**
 * The SDK against the real Helios gateway and store (in-process, PGlite in memory): what the SDK sends
 * must land as rows with the right fields, and retries, replays and splits must never duplicate a row.
 */

const run = promisify(execFile);
const example = fileURLToPath(new URL('../examples/http-app.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

const opened: RealHelios[] = [];
const clients: HeliosClient[] = [];
const dirs: string[] = [];

async function helios(gateway: Record<string, unknown> = {}): Promise<RealHelios> {
  const h = await RealHelios.create(gateway);
  opened.push(h);
  return h;
}

function client(options: HeliosOptions): HeliosClient {
  const c = createHeliosClient({ service: 'checkout', onDiagnostic: () => {}, initialBackoffMs: 20, maxBackoffMs: 200, ...options });
  clients.push(c);
  return c;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'helios-sdk-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
  for (const h of opened.splice(0)) await h.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the SDK against a running Helios', () => {
  // The example imports the published entry points (dist), so it needs `tsc -b sdk` first.
  it.skipIf(!built)('the example app lands in the store with service, route templates, latency and trace ids; its OTLP spans land too', async () => {
    const h = await helios();
    const { stdout } = await run(process.execPath, [example], {
      env: { ...process.env, HELIOS_ENDPOINT: h.url, HELIOS_SERVICE: 'example-shop', PORT: '0', EXAMPLE_REQUESTS: '6' },
      timeout: 30_000,
    });
    const stats = JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, number>;
    expect(stats).toMatchObject({ dropped: 0, rejected: 0 });

    const rows = await h.events();
    const heliosEvents = rows.filter((r) => r.kind !== 'span' || r.endpoint !== null);
    for (const r of heliosEvents) expect(r.service).toBe('example-shop');
    const requests = rows.filter((r) => r.kind === 'span' && r.message.startsWith('GET '));
    expect(requests.map((r) => [r.endpoint, r.status_code, r.level]).sort()).toEqual([
      ['/checkout', 200, 'INFO'], ['/checkout', 200, 'INFO'], ['/checkout', 503, 'ERROR'], ['/checkout', 503, 'ERROR'], ['/users/:id', 200, 'INFO'], ['/users/:id', 200, 'INFO'],
    ]);
    for (const r of requests) {
      expect(r.latency_ms).toBeGreaterThan(0);
      expect(r.latency_ms).toBeLessThan(30_000);
    }
    expect(requests.filter((r) => r.status_code === 503).map((r) => r.error_code)).toEqual(['HTTP_503', 'HTTP_503']);
    expect(rows.filter((r) => r.error_code === 'PAYMENT_TIMEOUT')).toHaveLength(2);

    // Events recorded inside the manual span carry its ids, and that span itself arrived over OTLP/HTTP.
    const userLoaded = rows.filter((r) => r.message === 'user loaded');
    expect(userLoaded).toHaveLength(2);
    const otlpSpans = rows.filter((r) => r.kind === 'span' && r.message === 'load-user');
    expect(otlpSpans).toHaveLength(2);
    for (const e of userLoaded) {
      expect(e.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(otlpSpans.map((s) => `${s.trace_id}/${s.span_id}`)).toContain(`${e.trace_id}/${e.span_id}`);
    }
    // One row per event: the ids the SDK chose are the rows' primary keys.
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  it('gateway down: no crash, a bounded queue with drops counted, and what was queued is delivered once it is back', async () => {
    const h = await helios();
    await h.stop();
    const sdk = client({ endpoint: h.url, maxQueueSize: 20, maxBatchSize: 10, flushIntervalMs: 10 });
    for (let i = 0; i < 50; i++) sdk.event({ message: `during outage ${i}`, endpoint: '/pay', latency_ms: i });
    await waitFor(() => sdk.stats().failedRequests >= 2);
    const during = sdk.stats();
    // At most maxQueueSize in the queue plus one batch in flight; the rest refused and counted, never
    // buffered without bound.
    expect(during.queued).toBeLessThanOrEqual(20 + 10);
    expect(during.enqueued + during.dropped).toBe(50);
    expect(during.dropped).toBeGreaterThanOrEqual(20);
    expect(during.sent).toBe(0);

    await h.start();
    expect(await sdk.flush({ timeoutMs: 20_000 })).toBe(true);
    const rows = await h.events();
    // The first events recorded are the ones kept: a full queue refuses new events, it never evicts.
    expect(rows.map((r) => r.message)).toEqual(Array.from({ length: during.enqueued }, (_, i) => `during outage ${i}`));
    expect(rows.every((r) => r.service === 'checkout' && r.endpoint === '/pay')).toBe(true);
    expect(sdk.stats()).toMatchObject({ sent: during.enqueued, dropped: during.dropped, rejected: 0 });
  });

  it('a batch the gateway answers 413 (too many events) is split and retried, not dropped', async () => {
    const h = await helios({ maxEventsPerRequest: 4 });
    const sdk = client({ endpoint: h.url, maxBatchSize: 16 });
    for (let i = 0; i < 40; i++) sdk.event({ message: `e${i}` });
    expect(await sdk.flush()).toBe(true);
    const rows = await h.events();
    expect(rows.map((r) => r.message).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `e${i}`).sort());
    expect(sdk.stats()).toMatchObject({ sent: 40, rejected: 0, dropped: 0 });
  });

  it('an offline-buffer replay after a crash between the 2xx and the segment delete stores no duplicate rows', async () => {
    const h = await helios();
    await h.stop();
    const directory = tempDir();
    // 1. Gateway down: the events spill to disk and stay there at shutdown.
    const first = client({ endpoint: h.url, offlineBuffer: { directory }, maxBatchSize: 10, flushIntervalMs: 10 });
    for (let i = 0; i < 25; i++) first.event({ message: `spilled ${i}`, endpoint: '/orders' });
    await first.shutdown();
    const segments = readdirSync(directory).filter((n) => n.endsWith('.ndjson'));
    expect(segments.length).toBeGreaterThan(0);
    // What the disk holds before the replay deletes anything: the state a crash after the 2xx would leave.
    const snapshot = join(tempDir(), 'snapshot');
    mkdirSync(snapshot);
    for (const name of segments) copyFileSync(join(directory, name), join(snapshot, name));

    // 2. Gateway back: a new process replays and deletes the segments.
    await h.start();
    const second = client({ endpoint: h.url, offlineBuffer: { directory } });
    await waitFor(() => second.stats().replayed === 25);
    await second.shutdown();
    expect(readdirSync(directory).filter((n) => n.endsWith('.ndjson'))).toEqual([]);

    // 3. The crash: the segments come back as if the deletes never happened, and a third process replays them.
    for (const name of segments) copyFileSync(join(snapshot, name), join(directory, name));
    const third = client({ endpoint: h.url, offlineBuffer: { directory } });
    await waitFor(() => third.stats().replayed === 25);
    await third.shutdown();

    const rows = await h.events();
    expect(rows).toHaveLength(25);
    expect(new Set(rows.map((r) => r.id)).size).toBe(25);
    expect(rows.map((r) => r.message).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `spilled ${i}`).sort());
  });
});
