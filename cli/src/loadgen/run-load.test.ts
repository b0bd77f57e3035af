import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from './index.js';

/** A stand-in gateway: counts requests and events, answers 202, or 503 for every `failEvery`-th request. */
async function standIn(failEvery = 0): Promise<{ url: string; server: Server; seen: { requests: number; events: number; paths: Set<string> } }> {
  const seen = { requests: 0, events: 0, paths: new Set<string>() };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.requests++;
      seen.paths.add(req.url ?? '');
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const parsed = JSON.parse(body.toString()) as unknown;
      seen.events += Array.isArray(parsed) ? parsed.length : 1;
      const status = failEvery > 0 && seen.requests % failEvery === 0 ? 503 : 202;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"accepted":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server, seen };
}

let server: Server | undefined;
afterEach(async () => {
  const open = server;
  server = undefined;
  if (open !== undefined) await new Promise((resolve) => open.close(resolve));
});

const base = { format: 'helios' as const, services: 4, errorRate: 0.1 };

describe('helios loadgen runner', () => {
  it('counts exactly what the server answered, by status, with pipelined requests over several connections', async () => {
    const gateway = await standIn(7);
    server = gateway.server;
    const report = await runLoad({ ...base, url: gateway.url, rate: 0, durationMs: 700, connections: 4, pipelining: 3, batchSize: 5, gzip: true });
    expect(report.requests).toBeGreaterThan(20);
    expect(report.requests).toBe(gateway.seen.requests);
    expect(report.events).toBe(gateway.seen.events);
    expect((report.statuses['202'] ?? 0) + (report.statuses['503'] ?? 0)).toBe(report.requests);
    expect(report.statuses['503']).toBe(Math.floor(gateway.seen.requests / 7));
    expect(report.errors).toBe(0);
    expect([...gateway.seen.paths]).toEqual(['/api/v1/events']);
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99);
    expect(report.latencyMs.p99).toBeLessThanOrEqual(report.latencyMs.max);
  });

  it('holds a fixed overall rate', async () => {
    const gateway = await standIn();
    server = gateway.server;
    const report = await runLoad({ ...base, url: gateway.url, rate: 200, durationMs: 1000, connections: 8, batchSize: 1 });
    // 200 requests/s for 1 s, give or take a clock tick; never well above the target.
    expect(report.requests).toBeGreaterThanOrEqual(180);
    expect(report.requests).toBeLessThanOrEqual(205);
    expect(report.statuses['202']).toBe(report.requests);
  });

  it('counts failed connections to a server that is not there as errors, and no request as sent', async () => {
    const gateway = await standIn();
    const url = gateway.url;
    await new Promise((resolve) => gateway.server.close(resolve));
    const report = await runLoad({ ...base, url, rate: 0, durationMs: 300, connections: 2, batchSize: 1 });
    expect(report.statuses).toEqual({});
    expect(report.requests).toBe(0);
    // Two connections retrying every 10 ms for 300 ms.
    expect(report.errors).toBeGreaterThanOrEqual(4);
  });
});
