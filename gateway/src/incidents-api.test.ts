import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeliosError, newEventId, Topics, type Anomaly, type AnomalyTopicRecord, type IncidentRecord, type Silence } from '@helios/core';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { startHarness, type Harness } from './harness.fixture.js';
import { KEYS, TENANTS, anomalyOf, type Who } from './two-tenants.fixture.js';
import { parseQueryParams } from './routes/query-params.js';

const SPECS = { limit: { kind: 'integer', min: 1, max: 500, description: 'l' }, service: { kind: 'string', description: 's' } } as const;

describe('parseQueryParams', () => {
  it('refuses any parameter it does not know, naming it, and any given twice', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }).filter((n) => !['limit', 'service'].includes(n)), fc.string(), (name, value) => {
      const query = new URLSearchParams([[name, value]]).toString();
      const err = (() => {
        try {
          parseQueryParams(query, SPECS, 0);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(HeliosError);
      expect(err).toMatchObject({ code: 'HLS_ERR_QUERY_INVALID', message: `${name}: unknown parameter; known: limit, service`, details: [name] });
    }));
    expect(() => parseQueryParams('limit=1&limit=2', SPECS, 0)).toThrow(/^limit: given more than once$/);
    for (const name of ['valueOf', 'constructor', '__proto__', 'toString']) expect(() => parseQueryParams(`${name}=1`, SPECS, 0)).toThrow(new RegExp(`^${name}: unknown parameter`));
    expect(parseQueryParams('limit=5&service=a%20b', SPECS, 0)).toEqual({ limit: 5, service: 'a b' });
  });
});

describe.each(['node', 'uws'] as const)('incidents and silences API over %s, auth on', (transport) => {
  let store: Store;
  let h: Harness;
  const anomalies: Record<Who, Anomaly[]> = { A: [], B: [] };
  const published: AnomalyTopicRecord[] = [];

  beforeAll(async () => {
    store = createSqlStore(await createPgliteClient());
    await store.migrate();
    for (let i = 0; i < 6; i++) {
      for (const who of ['A', 'B'] as const) {
        // The same service names in both tenants, interleaved in time: a read ignoring the tenant would mix them.
        const anomaly = anomalyOf(who, i % 2 === 0 ? 'checkout' : 'payments', i);
        anomalies[who].push(anomaly);
        await store.openIncident(anomaly);
      }
    }
    await store.insertAnomalies([...anomalies.A, ...anomalies.B]);
    // Alpha's key is named; bravo's is not (it is named by its fingerprint).
    h = await startHarness(transport, { auth: { enabled: true, keys: [{ key: KEYS.A, tenant: TENANTS.A, name: 'alpha-oncall' }, { key: KEYS.B, tenant: TENANTS.B }] } }, { store });
    h.bus.subscribe<AnomalyTopicRecord>(Topics.anomalies, 'test', async (records) => void published.push(...records.map((r) => r.value)));
  });
  afterAll(async () => {
    await h?.gateway.stop();
    await store?.close();
  });

  const call = async (method: string, path: string, who: Who | undefined, body?: unknown) => {
    const response = await fetch(`${h.url}${path}`, {
      method, headers: { ...(who === undefined ? {} : { authorization: `Bearer ${KEYS[who]}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };

  it('lists only the key\u2019s tenant\u2019s incidents, newest first, page by page, filtered by service and status', async () => {
    for (const who of ['A', 'B'] as const) {
      const ids: string[] = [];
      let next: string | null = null;
      do {
        const page = await call('GET', `/api/v1/incidents?limit=4${next === null ? '' : `&before=${encodeURIComponent(next)}`}`, who);
        expect(page.status).toBe(200);
        expect(page.body.items.every((i: IncidentRecord) => i.tenant === TENANTS[who])).toBe(true);
        ids.push(...page.body.items.map((i: IncidentRecord) => i.id));
        next = page.body.next;
      } while (next !== null);
      expect(ids).toEqual(anomalies[who].map((a) => a.id).reverse());
    }
    const checkout = await call('GET', '/api/v1/incidents?service=checkout&status=open', 'A');
    expect(checkout.body.items.map((i: IncidentRecord) => i.id)).toEqual(anomalies.A.filter((a) => a.service === 'checkout').map((a) => a.id).reverse());
  });

  it('answers 400 naming the parameter for unknown or bad query parameters', async () => {
    const cases: Array<[string, string]> = [
      ['/api/v1/incidents?servce=checkout', 'servce'], ['/api/v1/incidents?status=closed', 'status'], ['/api/v1/incidents?limit=0', 'limit'],
      ['/api/v1/incidents?limit=1.5', 'limit'], ['/api/v1/incidents?before=yesterday', 'before'], ['/api/v1/incidents?service=', 'service'],
      ['/api/v1/silences?active=yes', 'active'], ['/api/v1/silences?tenant=tenant-bravo', 'tenant'], [`/api/v1/incidents/${anomalies.A[0]!.id}?verbose=1`, 'verbose'],
    ];
    for (const [path, parameter] of cases) {
      const r = await call('GET', path, 'A');
      expect([path, r.status, r.body.error.code]).toEqual([path, 400, 'HLS_ERR_QUERY_INVALID']);
      expect(r.body.error.message.startsWith(`${parameter}: `)).toBe(true);
    }
  });

  it('gets an incident by id within the tenant only; another tenant\u2019s is not found', async () => {
    const own = await call('GET', `/api/v1/incidents/${anomalies.A[0]!.id}`, 'A');
    expect(own).toMatchObject({ status: 200, body: { id: anomalies.A[0]!.id, tenant: TENANTS.A, status: 'open' } });
    expect((await call('GET', `/api/v1/incidents/${anomalies.B[0]!.id}`, 'A')).status).toBe(404);
    expect((await call('GET', '/api/v1/incidents/not-an-id', 'A')).status).toBe(404);
    // A malformed escape is refused naming the path parameter, as on every API route (api-route.ts matchPath).
    expect(await call('GET', '/api/v1/incidents/%E0%A4%A', 'A')).toMatchObject({ status: 400, body: { error: { code: 'HLS_ERR_QUERY_INVALID', details: ['id'] } } });
    expect((await call('GET', `/api/v1/incidents/${anomalies.A[0]!.id}`, undefined)).status).toBe(401);
  });

  it('acknowledges by the key\u2019s name and publishes it for the reporters; another tenant cannot, and the incident stays as it was', async () => {
    const id = anomalies.A[1]!.id;
    expect(await call('POST', `/api/v1/incidents/${id}/ack`, 'B')).toMatchObject({ status: 404 });
    expect((await store.getIncident(id))?.status).toBe('open');
    const acked = await call('POST', `/api/v1/incidents/${id}/ack`, 'A');
    expect(acked).toMatchObject({ status: 200, body: { status: 'acknowledged', acknowledgedBy: 'alpha-oncall' } });
    // Published for the paging reporters once: acknowledging again changes nothing and publishes nothing.
    expect(await call('POST', `/api/v1/incidents/${id}/ack`, 'A')).toMatchObject({ status: 200, body: { acknowledgedAt: acked.body.acknowledgedAt } });
    await h.bus.drain(5000);
    expect(published.splice(0)).toEqual([{ kind: 'incident-acknowledged', incidentId: id, tenant: TENANTS.A, service: anomalies.A[1]!.service, acknowledgedAt: acked.body.acknowledgedAt, by: 'alpha-oncall' }]);
    expect(await call('POST', `/api/v1/incidents/${id}/ack`, 'A', { note: 'x' })).toMatchObject({ status: 400, body: { error: { code: 'HLS_ERR_REQUEST_INVALID', message: expect.stringMatching(/^note: unknown field/) } } });
    expect((await call('GET', `/api/v1/incidents/${id}/ack`, 'A')).status).toBe(405);
  });

  it('resolves by the key\u2019s name, stores it and publishes the resolution for the reporters; another tenant cannot', async () => {
    const id = anomalies.B[2]!.id;
    expect((await call('POST', `/api/v1/incidents/${id}/resolve`, 'A')).status).toBe(404);
    expect(published).toEqual([]);
    const resolved = await call('POST', `/api/v1/incidents/${id}/resolve`, 'B');
    expect(resolved).toMatchObject({ status: 200, body: { status: 'resolved', resolvedBy: expect.stringMatching(/^api-key:[0-9a-f]{12}$/), resolvedAt: expect.any(Number) } });
    await h.bus.drain(5000);
    expect(published).toEqual([{ kind: 'incident-resolved', incidentId: id, tenant: TENANTS.B, service: anomalies.B[2]!.service, resolvedAt: resolved.body.resolvedAt, by: resolved.body.resolvedBy }]);
    expect((await store.getIncident(id))?.status).toBe('resolved');
    // The anomaly now reads back with its incident's lifecycle.
    const listed = await call('GET', `/api/v1/anomalies?service=${anomalies.B[2]!.service}`, 'B');
    expect(listed.body.items.find((a: { id: string }) => a.id === id)).toMatchObject({ incidentId: id, status: 'resolved', resolvedAt: resolved.body.resolvedAt });
  });

  it('stores 👍/👎 feedback with the incident and shows it in the API; a bad rating is refused naming it', async () => {
    const id = anomalies.A[3]!.id;
    expect(await call('POST', `/api/v1/incidents/${id}/feedback`, 'A', { rating: 'down', comment: 'known deploy noise' })).toMatchObject({ status: 200 });
    expect((await call('GET', `/api/v1/incidents/${id}`, 'A')).body.feedback).toMatchObject({ rating: 'down', comment: 'known deploy noise', by: 'alpha-oncall', at: expect.any(Number) });
    expect(await call('POST', `/api/v1/incidents/${id}/feedback`, 'A', { rating: 'meh' })).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^rating: /) } } });
    expect(await call('POST', `/api/v1/incidents/${id}/feedback`, 'A', '{not json')).toMatchObject({ status: 400, body: { error: { code: 'HLS_ERR_BODY_MALFORMED' } } });
    expect(await call('POST', `/api/v1/incidents/${id}/feedback`, 'B', { rating: 'up' })).toMatchObject({ status: 404 });
    expect((await store.getIncident(id))?.feedback?.rating).toBe('down');
  });

  it('creates, lists and deletes silences within the tenant; bad fields are refused naming them', async () => {
    const startsAt = Date.now() - 60_000;
    const created = await call('POST', '/api/v1/silences', 'A', { service: 'checkout', startsAt: new Date(startsAt).toISOString(), endsAt: startsAt + 3_600_000, comment: 'db migration' });
    expect(created).toMatchObject({ status: 201, body: { tenant: TENANTS.A, service: 'checkout', startsAt, endsAt: startsAt + 3_600_000, comment: 'db migration', createdBy: 'alpha-oncall' } });
    const silence = created.body as Silence;
    expect((await call('GET', '/api/v1/silences', 'A')).body.items.map((s: Silence) => s.id)).toEqual([silence.id]);
    expect((await call('GET', '/api/v1/silences?active=true&service=checkout', 'A')).body.items.map((s: Silence) => s.id)).toEqual([silence.id]);
    expect((await call('GET', '/api/v1/silences?active=false', 'A')).body.items).toEqual([]);
    expect((await call('GET', '/api/v1/silences', 'B')).body.items).toEqual([]);

    const bad: Array<[unknown, string]> = [
      [{ endsAt: startsAt + 1000 }, 'service'], [{ service: 'x' }, 'endsAt'], [{ service: 'x', endsAt: 'tomorrow' }, 'endsAt'],
      [{ service: 'x', startsAt, endsAt: startsAt - 1 }, 'endsAt'], [{ service: 'x', endsAt: startsAt + 40 * 86_400_000 }, 'endsAt'],
      [{ service: 'x', endsAt: startsAt + 1000, tenant: TENANTS.B }, 'tenant'], [{ service: 'x', endsAt: Date.now() - 1 }, 'endsAt'],
    ];
    for (const [body, field] of bad) {
      const r = await call('POST', '/api/v1/silences', 'A', body);
      expect([field, r.status, r.body.error.code]).toEqual([field, 400, 'HLS_ERR_REQUEST_INVALID']);
      expect(r.body.error.message.startsWith(`${field}: `)).toBe(true);
    }
    expect((await call('DELETE', `/api/v1/silences/${silence.id}`, 'B')).status).toBe(404);
    expect((await call('DELETE', `/api/v1/silences/${silence.id}`, 'A')).status).toBe(204);
    expect((await call('DELETE', `/api/v1/silences/${silence.id}`, 'A')).status).toBe(404);
    expect((await call('POST', '/api/v1/silences', undefined, { service: 'x', endsAt: Date.now() + 1000 })).status).toBe(401);
  });

  it('answers any JSON body to the write routes with 2xx, or 400 naming the field, never 500', async () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
    const body = fc.dictionary(fc.constantFrom('service', 'startsAt', 'endsAt', 'comment', 'rating', 'tenant', 'x'), value);
    await fc.assert(fc.asyncProperty(fc.constantFrom('/api/v1/silences', `/api/v1/incidents/${anomalies.A[5]!.id}/feedback`, `/api/v1/incidents/${anomalies.A[5]!.id}/ack`), body, async (path, b) => {
      const r = await call('POST', path, 'A', b);
      if (r.status >= 300) {
        expect(r.status).toBe(400);
        expect(r.body.error.message).toMatch(/^(\w+): /);
      }
    }), { numRuns: 60 });
  });
});

describe('incidents and silences API, auth off', () => {
  it('serves every tenant, and a silence names its tenant in the body', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const a = anomalyOf('A', 'checkout', 0);
    const b = anomalyOf('B', 'checkout', 1);
    await store.openIncident(a);
    await store.openIncident(b);
    const h = await startHarness('node', {}, { store });
    try {
      const list = await (await fetch(`${h.url}/api/v1/incidents`)).json() as { items: IncidentRecord[] };
      expect(list.items.map((i) => i.id)).toEqual([b.id, a.id]);
      const ack = await (await fetch(`${h.url}/api/v1/incidents/${a.id}/ack`, { method: 'POST' })).json() as IncidentRecord;
      expect(ack).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'anonymous' });
      const created = await fetch(`${h.url}/api/v1/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'checkout', tenant: TENANTS.B, endsAt: Date.now() + 60_000 }) });
      expect(created.status).toBe(201);
      expect((await store.activeSilence(TENANTS.B, 'checkout', Date.now()))?.id).toBe(((await created.json()) as Silence).id);
    } finally {
      await h.gateway.stop();
      await store.close();
    }
  }, 90_000); // an embedded PostgreSQL migrated inside the test: slow on a loaded machine
});

describe('anomalies and reports API: query parameters', () => {
  it('refuses unknown or bad parameters naming them, where they used to be ignored', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const h = await startHarness('node', {}, { store });
    try {
      for (const [path, parameter] of [['/api/v1/anomalies?servce=x', 'servce'], ['/api/v1/reports?limit=501', 'limit'], ['/api/v1/anomalies?limit=ten', 'limit'], ['/api/v1/reports?tenant=', 'tenant']] as const) {
        const r = await fetch(`${h.url}${path}`);
        const body = (await r.json()) as { error: { code: string; message: string } };
        expect([path, r.status, body.error.code]).toEqual([path, 400, 'HLS_ERR_QUERY_INVALID']);
        expect(body.error.message.startsWith(`${parameter}: `)).toBe(true);
      }
      expect((await fetch(`${h.url}/api/v1/anomalies?limit=5&service=checkout`)).status).toBe(200);
    } finally {
      await h.gateway.stop();
      await store.close();
    }
  });
});
