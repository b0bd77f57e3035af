import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEventId, type Anomaly, type IncidentReport } from '@helios/core';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { startHarness, type Harness } from './harness.fixture.js';
import { KEYS, TENANTS, anomalyOf, type Who } from './two-tenants.fixture.js';

function reportOf(anomaly: Anomaly, who: Who): IncidentReport {
  return {
    id: newEventId(), anomalyId: anomaly.id, tenant: anomaly.tenant, service: anomaly.service, createdAt: anomaly.detectedAt, title: `${who} incident`, severity: 'high',
    composer: 'test', notes: [], markdown: `# ${who} incident in ${anomaly.service}`, deliveries: [],
    sections: { executiveSummary: `${who} summary`, rootCauseAnalysis: 'r', impactAssessment: 'i', recommendedActions: { immediate: [], shortTerm: [], longTerm: [] }, preventionMeasures: [] },
  };
}

describe('read API with auth on: a key reads its own tenant only', () => {
  let store: Store;
  let h: Harness;
  const anomalies: Record<Who, Anomaly[]> = { A: [], B: [] };
  const reports: Record<Who, IncidentReport[]> = { A: [], B: [] };

  beforeAll(async () => {
    store = createSqlStore(await createPgliteClient());
    await store.migrate();
    // Both tenants name their services alike, interleaved in time, so a read that ignored the tenant would mix them.
    for (let i = 0; i < 12; i++) {
      for (const who of ['A', 'B'] as const) {
        const anomaly = anomalyOf(who, i % 2 === 0 ? 'checkout' : 'payments', i);
        anomalies[who].push(anomaly);
        reports[who].push(reportOf(anomaly, who));
      }
    }
    await store.insertAnomalies([...anomalies.A, ...anomalies.B]);
    for (const r of [...reports.A, ...reports.B]) await store.saveReport(r);
    h = await startHarness('node', { auth: { enabled: true, keys: [{ key: KEYS.A, tenant: TENANTS.A }, { key: KEYS.B, tenant: TENANTS.B }] } }, { store });
  });
  afterAll(async () => {
    await h?.gateway.stop();
    await store?.close();
  });

  const get = (path: string, key: string | undefined, scheme = 'Bearer') => fetch(`${h.url}${path}`, { headers: key === undefined ? {} : { authorization: `${scheme} ${key}` } });

  /** Every page of a list, following `next`. */
  async function readAll(what: 'anomalies' | 'reports', key: string, query: string, limit: number): Promise<Array<{ id: string; tenant: string }>> {
    const items: Array<{ id: string; tenant: string }> = [];
    let next: string | null = null;
    do {
      const res = await get(`/api/v1/${what}?limit=${limit}${query}${next === null ? '' : `&before=${encodeURIComponent(next)}`}`, key);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Array<{ id: string; tenant: string }>; next: string | null };
      items.push(...body.items);
      next = body.next;
    } while (next !== null);
    return items;
  }

  it('lists only the key\u2019s tenant\u2019s anomalies and reports, whatever the page size or service filter', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom<Who>('A', 'B'), fc.integer({ min: 1, max: 30 }), fc.constantFrom('', '&service=checkout', '&service=payments'), async (who, limit, query) => {
      const service = query === '' ? undefined : query.slice('&service='.length);
      const keep = <T extends { service: string }>(xs: T[]) => xs.filter((x) => service === undefined || x.service === service);
      const gotAnomalies = await readAll('anomalies', KEYS[who], query, limit);
      expect(gotAnomalies.map((a) => a.id).sort()).toEqual(keep(anomalies[who]).map((a) => a.id).sort());
      const gotReports = await readAll('reports', KEYS[who], query, limit);
      expect(gotReports.map((r) => r.id).sort()).toEqual(keep(reports[who]).map((r) => r.id).sort());
      expect([...gotAnomalies, ...gotReports].every((x) => x.tenant === TENANTS[who])).toBe(true);
    }), { numRuns: 12 });
  });

  it('answers 404 for another tenant\u2019s report id, the same as for no report, and 200 for its own', async () => {
    for (const [who, other] of [['A', 'B'], ['B', 'A']] as const) {
      for (const report of reports[other]) {
        for (const path of [`/api/v1/reports/${report.id}`, `/api/v1/reports/${report.id}?format=markdown`]) {
          const res = await get(path, KEYS[who]);
          expect(res.status).toBe(404);
          const text = await res.text();
          expect(text).not.toContain(TENANTS[other]);
          expect(text).not.toContain(`${other} incident`);
        }
      }
      const own = await get(`/api/v1/reports/${reports[who][0]!.id}`, KEYS[who], 'bearer');
      expect(own.status).toBe(200);
      expect(((await own.json()) as IncidentReport).title).toBe(`${who} incident`);
      expect((await get(`/api/v1/reports/${newEventId()}`, KEYS[who])).status).toBe(404);
    }
  });

  it('answers 401 to reads without a key or with an unknown one', async () => {
    for (const path of ['/api/v1/anomalies', '/api/v1/reports', `/api/v1/reports/${reports.A[0]!.id}`]) {
      expect((await get(path, undefined)).status).toBe(401);
      expect((await get(path, 'not-a-known-key')).status).toBe(401);
    }
  });
});

describe('read API with auth off', () => {
  it('serves every tenant (what the README\u2019s Security section warns about)', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const both = [anomalyOf('A', 'checkout', 1), anomalyOf('B', 'checkout', 2)];
    await store.insertAnomalies(both);
    const h = await startHarness('node', {}, { store });
    try {
      const body = (await (await fetch(`${h.url}/api/v1/anomalies`)).json()) as { items: Anomaly[] };
      expect(body.items.map((a) => a.tenant).sort()).toEqual([TENANTS.A, TENANTS.B]);
    } finally {
      await h.gateway.stop();
      await store.close();
    }
  });

  it('serves a report\u2019s charts in its JSON and inlines them as data-URI images in its Markdown, after the facts table', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const anomaly = anomalyOf('A', 'checkout', 1);
    await store.insertAnomalies([anomaly]);
    const charts = [
      { feature: 'error_rate', title: 'checkout: error rate, 10:00–12:05 UTC', svg: '<svg xmlns="http://www.w3.org/2000/svg"><title>checkout: error rate – “quoted” (x)</title></svg>' },
      { feature: 'p95_latency', title: 'checkout: p95 [ms]', svg: '<svg xmlns="http://www.w3.org/2000/svg"><title>p95</title></svg>' },
    ];
    const report: IncidentReport = { ...reportOf(anomaly, 'A'), markdown: '# A incident\n\n| | |\n|---|---|\n| Anomaly id | `x` |\n\n## Executive Summary\n', charts };
    await store.saveReport(report);
    const h = await startHarness('node', {}, { store });
    try {
      const json = (await (await fetch(`${h.url}/api/v1/reports/${report.id}`)).json()) as IncidentReport;
      expect(json.charts).toEqual(charts);
      const res = await fetch(`${h.url}/api/v1/reports/${report.id}?format=markdown`);
      expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      const lines = (await res.text()).split('\n');
      const images = lines.map((l) => /^!\[([^\]]*)\]\(data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)\)$/.exec(l)).filter((m) => m !== null);
      expect(images.map((m) => ({ title: m[1], svg: Buffer.from(m[2]!, 'base64').toString('utf8') }))).toEqual([
        { title: charts[0]!.title, svg: charts[0]!.svg },
        { title: 'checkout: p95 ms', svg: charts[1]!.svg },
      ]);
      const firstImage = lines.findIndex((l) => l.startsWith('!['));
      expect(firstImage).toBeGreaterThan(lines.findIndex((l) => l.startsWith('| Anomaly id |')));
      expect(firstImage).toBeLessThan(lines.indexOf('## Executive Summary'));
    } finally {
      await h.gateway.stop();
      await store.close();
    }
  });
});
