import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHeliosClient, type HeliosClient, type HeliosOptions, type HeliosSdkError } from '../src/index.js';
import { FakeGateway, waitFor } from './fake-gateway.js';

const gateways: FakeGateway[] = [];
const clients: HeliosClient[] = [];
const dirs: string[] = [];

async function gateway(): Promise<FakeGateway> {
  const g = await new FakeGateway().start();
  gateways.push(g);
  return g;
}

function client(options: HeliosOptions): HeliosClient {
  const c = createHeliosClient({ service: 'checkout', onDiagnostic: () => {}, ...options });
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
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('Helios JSON exporter', () => {
  it('sends gzip-compressed batches with ids, service, resource and the API key', async () => {
    const g = await gateway();
    const helios = client({ endpoint: g.url, apiKey: 'k-123', maxBatchSize: 10, environment: 'test' });
    for (let i = 0; i < 25; i++) helios.event({ level: 'info', message: `m${i}`, metadata: { latency_ms: i, endpoint: '/pay', region: 'eu' } });
    expect(await helios.flush()).toBe(true);

    expect(g.requests.map((r) => r.events.length)).toEqual([10, 10, 5]);
    for (const r of g.requests) {
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.headers['authorization']).toBe('Bearer k-123');
    }
    const events = g.accepted;
    expect(events.map((e) => e['message'])).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    expect(new Set(events.map((e) => e['id'])).size).toBe(25);
    expect(events[3]).toMatchObject({
      service: 'checkout', level: 'INFO', kind: 'event', endpoint: '/pay', latency_ms: 3,
      attributes: { region: 'eu' },
      resource: { 'service.name': 'checkout', 'deployment.environment.name': 'test', 'telemetry.sdk.name': '@helios/sdk' },
    });
    expect(events[3]!['id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(helios.stats()).toMatchObject({ sent: 25, dropped: 0, queued: 0, failedRequests: 0 });
  });

  it('sends a partial batch after flushIntervalMs without flush()', async () => {
    const g = await gateway();
    const helios = client({ endpoint: g.url, flushIntervalMs: 20 });
    helios.logger.warn('slow disk', { disk: 'sda' });
    await waitFor(() => g.accepted.length === 1);
    expect(g.accepted[0]).toMatchObject({ level: 'WARN', kind: 'log', message: 'slow disk', attributes: { disk: 'sda' } });
  });

  it('honours Retry-After on 429 and then delivers the same events', async () => {
    const g = await gateway();
    g.mode = { kind: 'status', status: 429, retryAfter: '1' };
    const helios = client({ endpoint: g.url, initialBackoffMs: 1, maxBackoffMs: 5000 });
    helios.event({ message: 'a' });
    helios.event({ message: 'b' });
    const flushed = helios.flush({ timeoutMs: 10_000 });
    await waitFor(() => g.requests.length === 1);
    g.mode = { kind: 'ok' };
    expect(await flushed).toBe(true);

    expect(g.requests).toHaveLength(2);
    const [refused, accepted] = g.requests;
    // Backoff alone would retry after at most 1 ms (initialBackoffMs); the server asked for one second.
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(950);
    expect(accepted!.events.map((e) => e['id'])).toEqual(refused!.events.map((e) => e['id']));
    expect(helios.stats()).toMatchObject({ sent: 2, failedRequests: 1 });
  });

  it('retries 503 with backoff and a hanging gateway after requestTimeoutMs', async () => {
    const g = await gateway();
    g.mode = { kind: 'status', status: 503 };
    const helios = client({ endpoint: g.url, initialBackoffMs: 20, maxBackoffMs: 50, requestTimeoutMs: 200 });
    helios.event({ message: 'x' });
    const flushed = helios.flush({ timeoutMs: 10_000 });
    await waitFor(() => g.requests.length >= 3);
    g.mode = { kind: 'hang' };
    const before = g.requests.length;
    await waitFor(() => g.requests.length >= before + 2);
    g.mode = { kind: 'ok' };
    expect(await flushed).toBe(true);
    expect(g.accepted).toHaveLength(1);
    expect(helios.stats().failedRequests).toBeGreaterThanOrEqual(4);
  });

  it('drops a batch the gateway rejects as invalid (400) and reports HLS_ERR_SDK_EXPORT_REJECTED', async () => {
    const g = await gateway();
    g.mode = { kind: 'status', status: 400 };
    const codes: string[] = [];
    const helios = client({ endpoint: g.url, onDiagnostic: (e: HeliosSdkError) => codes.push(e.code) });
    helios.event({ message: 'bad' });
    expect(await helios.flush()).toBe(true);
    expect(g.requests).toHaveLength(1);
    expect(helios.stats()).toMatchObject({ rejected: 1, sent: 0 });
    expect(codes).toContain('HLS_ERR_SDK_EXPORT_REJECTED');
  });

  it('keeps memory bounded while the gateway is down, counts drops, and delivers after it returns', async () => {
    const g = await gateway();
    await g.stop(); // the port is now refused
    const codes: string[] = [];
    const helios = client({ endpoint: g.url, maxQueueSize: 50, maxBatchSize: 10, initialBackoffMs: 10, maxBackoffMs: 50, onDiagnostic: (e) => codes.push(e.code) });
    for (let i = 0; i < 200; i++) helios.event({ message: `e${i}` });
    // The first full batch left the queue for the send loop; 50 more fit in the queue; the rest were refused.
    expect(helios.stats()).toMatchObject({ enqueued: 60, dropped: 140, queued: 60 });
    expect(codes).toContain('HLS_ERR_SDK_QUEUE_FULL');
    await waitFor(() => helios.stats().failedRequests >= 2);

    await g.start(g.port);
    expect(await helios.flush({ timeoutMs: 10_000 })).toBe(true);
    const messages = g.accepted.map((e) => e['message']);
    expect(messages).toEqual(Array.from({ length: 60 }, (_, i) => `e${i}`));
    expect(helios.stats()).toMatchObject({ sent: 60, dropped: 140, queued: 0 });
  });

  it('shutdown() flushes what is queued, is idempotent, and drops (counted) events recorded afterwards', async () => {
    const g = await gateway();
    const helios = client({ endpoint: g.url, flushIntervalMs: 60_000 });
    helios.event({ message: 'last words' });
    await Promise.all([helios.shutdown(), helios.shutdown()]);
    expect(g.accepted.map((e) => e['message'])).toEqual(['last words']);
    helios.event({ message: 'too late' });
    expect(helios.stats()).toMatchObject({ sent: 1, dropped: 1 });
  });

  it('samples non-error events only, and beforeSend redacts or drops', async () => {
    const g = await gateway();
    const helios = client({
      endpoint: g.url,
      sampleRate: 0,
      beforeSend: (event) => {
        if (event.message === 'drop me') return null;
        if (event.attributes?.['card'] !== undefined) event.attributes['card'] = '[redacted]';
        return event;
      },
    });
    for (let i = 0; i < 20; i++) helios.event({ message: 'routine' });
    helios.event({ level: 'error', message: 'payment failed', error_code: 'CARD_DECLINED', attributes: { card: '4111111111111111' } });
    helios.logger.critical(Object.assign(new Error('db down'), { code: 'DB_TIMEOUT' }));
    helios.event({ level: 'ERROR', message: 'drop me' });
    expect(await helios.flush()).toBe(true);
    expect(g.accepted.map((e) => [e['level'], e['message'], e['error_code']])).toEqual([
      ['ERROR', 'payment failed', 'CARD_DECLINED'],
      ['CRITICAL', 'db down', 'DB_TIMEOUT'],
    ]);
    expect(g.accepted[0]!['attributes']).toEqual({ card: '[redacted]' });
    expect(helios.stats()).toMatchObject({ sampledOut: 20, filtered: 1, sent: 2 });
  });
});

describe('offline buffer', () => {
  it('survives a restart while the gateway is down and replays the same ids exactly once', async () => {
    const g = await gateway();
    await g.stop();
    const directory = tempDir();
    const written: string[] = [];
    const first = client({
      endpoint: g.url, maxBatchSize: 8, initialBackoffMs: 10, maxBackoffMs: 20, shutdownTimeoutMs: 100,
      offlineBuffer: { directory, segmentBytes: 4096 },
      beforeSend: (e) => { written.push(e.id); return e; },
    });
    for (let i = 0; i < 30; i++) first.event({ message: `offline ${i}` });
    await first.flush({ timeoutMs: 5000 });
    await first.shutdown();
    expect(first.stats()).toMatchObject({ spilled: 30, sent: 0, dropped: 0 });
    expect(readdirSync(directory).filter((f) => f.endsWith('.ndjson')).length).toBeGreaterThan(1);

    // "Restart": a new SDK instance on the same directory, the gateway is back.
    await g.start(g.port);
    const second = client({ endpoint: g.url, offlineBuffer: { directory } });
    await waitFor(() => g.accepted.length >= 30);
    second.event({ message: 'after restart' });
    expect(await second.flush()).toBe(true);

    const ids = g.accepted.map((e) => e['id']);
    expect(ids.slice(0, 30)).toEqual(written);
    expect(new Set(ids).size).toBe(ids.length);
    expect(g.accepted.map((e) => e['message'])).toEqual([...Array.from({ length: 30 }, (_, i) => `offline ${i}`), 'after restart']);
    expect(second.stats()).toMatchObject({ replayed: 30, sent: 31, offlineBytes: 0 });
    expect(readdirSync(directory).filter((f) => f.endsWith('.ndjson'))).toEqual([]);
  });

  it('refuses a directory locked by a live instance', async () => {
    const directory = tempDir();
    const codes: string[] = [];
    client({ endpoint: 'http://127.0.0.1:9', offlineBuffer: { directory } });
    client({ endpoint: 'http://127.0.0.1:9', offlineBuffer: { directory }, onDiagnostic: (e) => codes.push(e.code) });
    expect(codes).toEqual(['HLS_ERR_SDK_OFFLINE_BUFFER_LOCKED']);
  });
});
