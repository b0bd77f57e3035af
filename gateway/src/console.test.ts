import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '@helios/bus';
import { createMetricsRegistry, defaultConfig, silentLogger } from '@helios/core';
import { createGateway } from './gateway.js';
import { startHarness, type Harness } from './harness.fixture.js';
import { CONSOLE_CSP, chooseEncoding, loadConsoleFiles, locateConsole } from './routes/console.js';

/** A GET with node:http, which (unlike fetch) leaves the body as sent: compressed bytes stay compressed. */
function rawGet(url: string, acceptEncoding: string | undefined): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Relative module imports of a compiled console script (`from './views/events.js'`). */
function relativeImports(source: string): string[] {
  return [...source.matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
}

describe.each(['uws', 'node'] as const)('web console files over %s', (transport) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(transport, { auth: { enabled: true, keys: [{ key: 'console-test-key-1', tenant: 'acme' }] } });
  });
  afterAll(() => h?.gateway.stop());

  it('serves the page at / without a key, with a strict Content-Security-Policy, no inline script and no external reference', async () => {
    const res = await fetch(`${h.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    for (const script of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(script[1], 'every script is a file').toMatch(/\bsrc="\/console\//);
      expect(script[2]!.trim(), 'no inline script').toBe('');
    }
    expect(html).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//); // nothing from another origin
    expect(html).not.toContain('{{version}}');
  });

  it('serves every file the page loads, and every module those import, with its content type and immutable caching', async () => {
    const html = await (await fetch(`${h.url}/`)).text();
    const queue = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);
    expect(queue.length).toBeGreaterThanOrEqual(3);
    const seen = new Set<string>();
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await fetch(`${h.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-security-policy'), path).toBe(CONSOLE_CSP);
      const type = res.headers.get('content-type')!;
      const body = await res.text();
      if (path.endsWith('.js')) {
        expect(type).toBe('text/javascript; charset=utf-8');
        expect(body, `${path} makes no request to another origin`).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
        for (const spec of relativeImports(body)) queue.push(new URL(spec, `http://x${path}`).pathname);
      } else if (path.endsWith('.css')) expect(type).toBe('text/css; charset=utf-8');
      else if (path.endsWith('.svg')) expect(type).toBe('image/svg+xml');
    }
    expect([...seen].some((p) => p.endsWith('/views/events.js')), 'the crawl followed the imports').toBe(true);
  });

  it('serves the page and its text files brotli- or gzip-compressed when the client accepts it, the same bytes once decoded, with Vary', async () => {
    const files = loadConsoleFiles(locateConsole()!);
    const paths = ['/', ...[...files.files.keys()].map((name) => `/console/${files.version}/${name}`)];
    for (const path of paths) {
      const plain = await rawGet(`${h.url}${path}`, undefined);
      expect(plain.status, path).toBe(200);
      expect(plain.headers['content-encoding'], path).toBeUndefined();
      const cases: Array<[string, 'br' | 'gzip']> = [['gzip, deflate, br', 'br'], ['gzip', 'gzip'], ['br;q=0, gzip;q=0.5', 'gzip'], ['*', 'br']];
      for (const [accept, expected] of cases) {
        const res = await rawGet(`${h.url}${path}`, accept);
        expect(res.headers['vary'], path).toBe('Accept-Encoding');
        expect(res.headers['content-encoding'], `${path} with ${accept}`).toBe(expected);
        expect((expected === 'br' ? brotliDecompressSync(res.body) : gunzipSync(res.body)).equals(plain.body), path).toBe(true);
        expect(res.body.length, path).toBeLessThan(plain.body.length);
      }
      // Refused encodings are not sent.
      expect((await rawGet(`${h.url}${path}`, 'identity, br;q=0, gzip;q=0')).headers['content-encoding'], path).toBeUndefined();
    }
    expect(files.brotliBytes).toBeLessThan(files.totalBytes / 2);
  });

  it('answers 404 naming the file for a console path that is not a file, or of another version (generated paths)', async () => {
    const version = loadConsoleFiles(locateConsole()!).version;
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(fc.stringMatching(/^[a-zA-Z0-9._%-]{1,12}$/), { minLength: 1, maxLength: 3 }), async (current, segments) => {
      const path = `/console/${current ? version : 'v0ld'}/${segments.join('/')}x.unknown`;
      const res = await fetch(`${h.url}${path}`);
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('HLS_ERR_NOT_FOUND');
      expect(body.error.message).toMatch(current ? /no console file/ : /version/);
    }), { numRuns: 40 });
  });
});

describe('chooseEncoding', () => {
  it('sends brotli, then gzip, only when Accept-Encoding lists it (or *) with q above 0, else identity', () => {
    const both = { body: Buffer.alloc(1), type: 'text/css', br: Buffer.alloc(1), gzip: Buffer.alloc(1) };
    const coding = fc.constantFrom('br', 'gzip', 'deflate', 'identity', '*', 'zstd');
    const entry = fc.tuple(coding, fc.option(fc.constantFrom('0', '0.0', '0.5', '1'), { nil: undefined }));
    // Each coding at most once: a header naming one twice is not meaningful (RFC 9110 gives no rule).
    fc.assert(fc.property(fc.uniqueArray(entry, { maxLength: 5, selector: ([c]) => c }), (entries) => {
      const header = entries.map(([c, q]) => (q === undefined ? c : `${c};q=${q}`)).join(', ');
      const qOf = (name: string) => {
        const own = entries.find(([c]) => c === name) ?? entries.find(([c]) => c === '*');
        return own === undefined ? 0 : Number(own[1] ?? '1');
      };
      const want = qOf('br') > 0 ? 'br' : qOf('gzip') > 0 ? 'gzip' : undefined;
      expect(chooseEncoding(header, both)).toBe(want);
      // A file with no compressed copy (an image) is always sent as is.
      expect(chooseEncoding(header, { body: both.body, type: 'image/png' })).toBeUndefined();
    }));
  });
});

describe('web console not installed', () => {
  it('answers / with 404 saying the console is not installed, and the API still works', async () => {
    const gateway = createGateway({ config: { ...defaultConfig().gateway, port: 0 }, bus: createMemoryBus({ capacity: 10 }), logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }), console: { root: null } });
    const request = (path: string) => gateway.handle({ method: 'GET', path, query: '', headers: { 'content-type': '', 'content-encoding': '', authorization: '', 'x-api-key': '' }, body: Buffer.alloc(0) });
    for (const path of ['/', '/console/abc/main.js']) {
      const res = await request(path);
      expect(res.status).toBe(404);
      expect(JSON.parse(String(res.body))).toMatchObject({ error: { code: 'HLS_ERR_NOT_FOUND', message: expect.stringContaining('@helios/console') } });
    }
    expect((await request('/api/v1/openapi.json')).status).toBe(200);
  });
});
