import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { startHarness, type Harness } from './harness.fixture.js';

/**
 * The OpenAPI document and the gateway agree: every documented operation is served (answered by its
 * route, whatever the status, not "no route" or 405), and every (method, path) the gateway serves is
 * documented. The second half is checked on generated requests: paths made from the documented
 * templates and from random segments, with every method.
 */
interface OpenApi { openapi: string; paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> }

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

describe('OpenAPI document at /api/v1/openapi.json', () => {
  let store: Store;
  let h: Harness;
  let doc: OpenApi;

  beforeAll(async () => {
    store = createSqlStore(await createPgliteClient());
    await store.migrate();
    h = await startHarness('node', { otlpPort: -1 }, { store });
    const res = await fetch(`${h.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as OpenApi;
  }, 60_000);
  afterAll(async () => {
    await h?.gateway.stop();
    await store?.close();
  });

  /** The documented template a path matches, if any. */
  function templateOf(path: string): string | undefined {
    return Object.keys(doc.paths).find((t) => {
      const want = t.split('/');
      const got = path.split('/');
      return want.length === got.length && want.every((w, i) => (w.startsWith('{') ? got[i] !== '' : w === got[i]));
    });
  }

  /** Whether the gateway routed the request somewhere (any answer but "no route" and 405). */
  async function served(method: string, path: string): Promise<boolean> {
    const res = await fetch(`${h.url}${path}`, { method, ...(method === 'GET' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } }) });
    if (res.headers.get('content-type')?.startsWith('text/event-stream') === true) {
      await res.body?.cancel(); // a live tail: routed, and it would never end
      return true;
    }
    const text = await res.text();
    if (res.status === 405) return false;
    return !(res.status === 404 && text.includes('"no route'));
  }

  it('is OpenAPI 3.1 covering ingestion, OTLP, the read API, the incident and silence API and operations', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/api/v1/events', '/api/v1/events/tail', '/api/v1/traces/{traceId}', '/api/v1/services', '/api/v1/services/{service}/series', '/api/v1/anomalies', '/api/v1/reports', '/api/v1/reports/{id}', '/api/v1/openapi.json', '/api/v1/incidents', '/api/v1/incidents/{id}', '/api/v1/incidents/{id}/ack', '/api/v1/incidents/{id}/resolve', '/api/v1/incidents/{id}/feedback', '/api/v1/silences', '/api/v1/silences/{id}', '/v1/logs', '/healthz']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths['/api/v1/events']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/v1/silences']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/v1/silences/{id}']!)).toEqual(['delete']);
    expect(Object.keys(doc.paths['/api/v1/incidents/{id}/ack']!)).toEqual(['post']);
    expect(doc.paths['/api/v1/events']!['get']!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['from', 'to', 'service', 'level', 'q', 'limit', 'cursor']));
  });

  it('every documented operation is served', async () => {
    for (const [template, operations] of Object.entries(doc.paths)) {
      const path = template.replace(/\{[^}]+\}/g, 'x');
      for (const method of Object.keys(operations)) expect(await served(method.toUpperCase(), path), `${method} ${template}`).toBe(true);
    }
  });

  it('the gateway serves nothing undocumented (generated paths and methods)', async () => {
    const templates = Object.keys(doc.paths);
    // Not '.' or '..': the client normalizes those away (`/a/../b` is sent as `/b`), so the path asked is not the path sent.
    const segment = fc.stringMatching(/^[a-z0-9.]{1,10}$/).filter((s) => s !== '.' && s !== '..');
    const path = fc.oneof(
      fc.tuple(fc.constantFrom(...templates), segment).map(([t, s]) => t.replace(/\{[^}]+\}/g, s)),
      fc.tuple(fc.constantFrom(...templates), segment).map(([t, s]) => `${t.replace(/\{[^}]+\}/g, s)}/${s}`),
      fc.array(segment, { minLength: 1, maxLength: 4 }).map((xs) => `/api/v1/${xs.join('/')}`),
      fc.array(segment, { minLength: 1, maxLength: 3 }).map((xs) => `/${xs.join('/')}`),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...METHODS), path, async (method, p) => {
      const template = templateOf(p);
      const documented = template !== undefined && doc.paths[template]![method.toLowerCase()] !== undefined;
      expect(await served(method, p), `${method} ${p}`).toBe(documented);
    }), { numRuns: 150 });
  });
});
