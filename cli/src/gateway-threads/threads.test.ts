import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, silentLogger, type HeliosConfig } from '@helios/core';
import { loadUws } from '@helios/gateway';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { startHelios, type HeliosApp } from '../app.js';

/** The gateway on two threads, the pipeline on the main one (issue 21), over one embedded store. */

let store: Store;
const dir = mkdtempSync(join(tmpdir(), 'helios-threads-'));
const configOf = (gateway: Partial<HeliosConfig['gateway']>, bus: Partial<HeliosConfig['bus']> = {}) =>
  resolveConfig({ dataDir: dir, bus, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, threads: 2, ...gateway }, store: { flushIntervalMs: 20 }, plugins: { detectors: [], reporters: [] } });
const start = (config: HeliosConfig) => startHelios({ config, baseDir: dir, store, logger: silentLogger() });
const codeOf = (p: Promise<HeliosApp>) => p.then(async (app) => (await app.stop(), 'started'), (err: { code?: string }) => err.code ?? String(err));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const post = (port: number, body: unknown) =>
  fetch(`http://127.0.0.1:${port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  store = createSqlStore(await createPgliteClient());
  await store.migrate();
}, 120_000);
afterAll(async () => {
  await store.close();
});

describe('gateway threads', () => {
  it('accept on every thread, store everything accepted, and merge the threads\' metrics on /metrics', async () => {
    const app = await start(configOf({}));
    try {
      const before = await store.countEvents({ service: 'threads' });
      // Separate connections, so the kernel spreads them over both threads.
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(app.port, Array.from({ length: 5 }, (_, k) => ({ service: 'threads', message: `m${i}-${k}` })))));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
      const ids = (await Promise.all(answers.map((a) => a.json() as Promise<{ ids: string[] }>))).flatMap((b) => b.ids);
      expect(new Set(ids).size).toBe(200);
      expect(await app.settle(30_000)).toBe(true);
      expect((await store.countEvents({ service: 'threads' })) - before).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
      expect(metrics).toMatch(/helios_events_ingested_total\{service="threads",level="INFO"\} 200\n/);
      expect(metrics).toMatch(/helios_http_requests_total\{route="events",status="202"\} 40\n/);
      // The pipeline thread's own metrics are there too.
      expect(metrics).toMatch(/helios_process_cpu_seconds_total/);
      // The read API answers from the pipeline thread's store.
      const page = (await (await fetch(`http://127.0.0.1:${app.port}/api/v1/events?service=threads&from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}&limit=1`)).json()) as { items: unknown[] };
      expect(page).toMatchObject({ items: [expect.objectContaining({ service: 'threads' })] });
    } finally {
      await app.stop();
    }
  }, 120_000);

  it('answer 429 with Retry-After when the pipeline\'s bus cannot take a request', async () => {
    const app = await start(configOf({}, { capacity: 5 }));
    try {
      const answer = await post(app.port, Array.from({ length: 6 }, (_, k) => ({ service: 'full', message: `m${k}` })));
      expect(answer.status).toBe(429);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('HLS_ERR_BUS_FULL');
      expect((await post(app.port, [{ service: 'full', message: 'fits' }])).status).toBe(202);
    } finally {
      await app.stop();
    }
  }, 120_000);

  it('share the port among themselves only: a second Helios, threaded or not, and any other listener are refused', async () => {
    const port = await freePort();
    const app = await start(configOf({ port }));
    try {
      expect(app.port).toBe(port);
      expect(await codeOf(start(configOf({ port })))).toBe('HLS_ERR_PORT_IN_USE');
      expect(await codeOf(start(configOf({ port, threads: 1 })))).toBe('HLS_ERR_PORT_IN_USE');
      expect((await post(port, [{ service: 'still', message: 'mine' }])).status).toBe(202);
    } finally {
      await app.stop();
    }
    // A listener with SO_REUSEPORT (uWS's default) already there: the threads, which bind with it, must not join it.
    const loaded = loadUws();
    if ('error' in loaded) throw loaded.error;
    const holder = loaded.uws.App();
    const socket = await new Promise<unknown>((resolve) => (holder.listen as unknown as (h: string, p: number, o: number, cb: (s: unknown) => void) => void)('127.0.0.1', port, 0, resolve));
    expect(socket).not.toBe(false);
    try {
      expect(await codeOf(start(configOf({ port })))).toBe('HLS_ERR_PORT_IN_USE');
    } finally {
      loaded.uws.us_listen_socket_close(socket as never);
    }
  }, 180_000);

  it('on Kafka each spool on their own, and /readyz on every thread answers for every thread\'s bus', async () => {
    // Brokers that never answer: every thread starts behind its spool (bus.spool), which takes the requests.
    const kafkaDir = mkdtempSync(join(tmpdir(), 'helios-threads-kafka-'));
    const config = resolveConfig({
      dataDir: kafkaDir, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, threads: 2 }, plugins: { detectors: [], reporters: [] },
      bus: { kind: 'kafka', kafka: { brokers: ['127.0.0.1:1'] }, spool: { enabled: true, maxBytes: 8192, handoffTimeoutMs: 100 } },
    });
    const app = await startHelios({ config, baseDir: kafkaDir, roles: ['gateway'], logger: silentLogger() });
    /** A request on its own connection (`agent`: one kept open, so every request reaches the same thread). */
    const send = (path: string, agent: Agent | false, body?: unknown) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: app.port, path, method: body === undefined ? 'GET' : 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
    const one = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Fill one thread's spool: 202s (fsync'd there) until it refuses.
      const statuses: number[] = [];
      while (statuses.at(-1) !== 429 && statuses.length < 200) statuses.push((await send('/api/v1/events', one, Array.from({ length: 20 }, (_, k) => ({ service: 'spooled', message: `m${k}` })))).status);
      expect(statuses.at(-1)).toBe(429);
      expect(statuses.slice(0, -1).every((s) => s === 202) && statuses.length > 1).toBe(true);
      // Fresh connections land on both threads: each is not ready, the other thread for the full thread's spool.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const answers = await Promise.all(Array.from({ length: 16 }, () => send('/readyz', false)));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
      const reasons = new Set(answers.map((a) => (JSON.parse(a.body) as { reason: string }).reason.replace(/\(.*$/, '')));
      expect([...reasons].sort()).toEqual([expect.stringMatching(/^bus: the spool is full $/), expect.stringMatching(/^gateway thread [01]'s bus: the spool is full $/)].sort());
      // The other thread's own spool still takes requests.
      const others = await Promise.all(Array.from({ length: 16 }, () => send('/api/v1/events', false, [{ service: 'spooled', message: 'other' }])));
      expect(others.some((a) => a.status === 202)).toBe(true);
    } finally {
      one.destroy();
      await app.stop();
    }
  }, 180_000);
});
