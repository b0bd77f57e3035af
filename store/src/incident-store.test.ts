import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newEventId, type Anomaly, type IncidentReport } from '@helios/core';
import { createPgliteClient, createPostgresClient, createSqlStore, type Store } from './index.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function anomaly(fields: Partial<Anomaly> = {}): Anomaly {
  return {
    id: newEventId(), tenant: 'acme', service: 'checkout', windowStart: T0 - 300_000, windowEnd: T0, detectedAt: T0,
    detector: 'test', severity: 'high', score: 0.8, threshold: 0.6,
    features: { total_events: 1, error_rate: 0.5, avg_latency: 1, p95_latency: 1, p99_latency: 1, latency_stddev: 0, unique_endpoints: 1 },
    explanation: [], modelVersion: 'v1', ...fields,
  };
}

const pgUrl = process.env['HELIOS_PG_URL'];
if (process.env['CI'] === 'true' && !pgUrl) {
  describe('incident lifecycle on PostgreSQL', () => {
    it('has a server to test against (HELIOS_PG_URL)', () => expect.fail('CI=true but HELIOS_PG_URL is not set'));
  });
}

/** A store on PostgreSQL in a schema of its own (dropped after), so runs do not see each other's rows. */
async function postgresStore(url: string): Promise<{ store: Store; drop: () => Promise<void> }> {
  const schema = `helios_test_${newEventId().replace(/-/g, '').slice(-16)}`;
  const admin = createPostgresClient(url);
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const store = createSqlStore(createPostgresClient({ connectionString: url, options: `-c search_path=${schema}`, max: 4 }));
  return {
    store,
    drop: async () => {
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

const stores: Array<[string, () => Promise<{ store: Store; drop: () => Promise<void> }>]> = [
  ['PGlite', async () => ({ store: createSqlStore(await createPgliteClient()), drop: async () => undefined })],
  ...(pgUrl ? [['PostgreSQL', () => postgresStore(pgUrl)] as [string, () => Promise<{ store: Store; drop: () => Promise<void> }>]] : []),
];

describe.each(stores)('incident lifecycle and silences (%s)', (_name, open) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await open());
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });

  it('opens once per anomaly, then moves open -> acknowledged -> resolved, keeping the first of each', async () => {
    const a = anomaly({ metric: { name: 'queue_depth', attributes: { queue: 'q1' } } });
    const opened = await store.openIncident(a);
    expect(opened).toMatchObject({ id: a.id, tenant: 'acme', service: 'checkout', series: 'queue_depth{queue="q1"}', severity: 'high', status: 'open', openedAt: T0 });
    expect(await store.openIncident({ ...a, severity: 'low' })).toEqual(opened); // a redelivered anomaly changes nothing

    const acked = await store.acknowledgeIncident(a.id, { by: 'alice', at: T0 + 1000 });
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice', acknowledgedAt: T0 + 1000, updatedAt: T0 + 1000 });
    expect(await store.acknowledgeIncident(a.id, { by: 'bob', at: T0 + 2000 })).toMatchObject({ acknowledgedBy: 'alice' });

    const resolved = await store.resolveIncident(a.id, { by: 'detector', at: T0 + 3000 });
    expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: 'detector', resolvedAt: T0 + 3000 });
    expect(resolved?.resolutionDeliveredAt).toBeUndefined();
    expect(await store.resolveIncident(a.id, { by: 'ops-key', at: T0 + 4000 })).toMatchObject({ resolvedBy: 'detector', resolvedAt: T0 + 3000 });
    expect(await store.acknowledgeIncident(a.id, { by: 'carol', at: T0 + 5000 })).toMatchObject({ status: 'resolved' });
    await store.markResolutionDelivered(a.id, T0 + 3500);
    expect((await store.getIncident(a.id))?.resolutionDeliveredAt).toBe(T0 + 3500);
  });

  it('scopes every read and write to the tenant: another tenant\u2019s incident is not found and not changed', async () => {
    const a = anomaly({ tenant: 'globex' });
    await store.openIncident(a);
    expect(await store.getIncident(a.id, { tenant: 'acme' })).toBeUndefined();
    expect(await store.acknowledgeIncident(a.id, { by: 'x', at: T0, tenant: 'acme' })).toBeUndefined();
    expect(await store.resolveIncident(a.id, { by: 'x', at: T0, tenant: 'acme' })).toBeUndefined();
    expect(await store.setIncidentFeedback(a.id, { rating: 'down', by: 'x', at: T0 }, { tenant: 'acme' })).toBeUndefined();
    expect(await store.getIncident(a.id, { tenant: 'globex' })).toMatchObject({ status: 'open' });
    expect((await store.getIncident(a.id))?.feedback).toBeUndefined();
    expect((await store.listIncidents({ tenant: 'acme' })).items.map((i) => i.tenant)).not.toContain('globex');
    expect(await store.getIncident('not-a-uuid')).toBeUndefined();
  });

  it('stores feedback with the incident, the latest rating replacing an earlier one', async () => {
    const a = anomaly();
    await store.openIncident(a);
    await store.setIncidentFeedback(a.id, { rating: 'up', by: 'alice', at: T0 + 1 });
    expect(await store.setIncidentFeedback(a.id, { rating: 'down', comment: 'deploy noise', by: 'bob', at: T0 + 2 })).toMatchObject({ feedback: { rating: 'down', comment: 'deploy noise', by: 'bob', at: T0 + 2 } });
  });

  it('pages incidents newest first by status and service, every incident once', async () => {
    const service = `paging-${newEventId().slice(-12)}`;
    const opened = await Promise.all(Array.from({ length: 7 }, (_, i) => store.openIncident(anomaly({ service, detectedAt: T0 + i * 1000 }))));
    await store.resolveIncident(opened[2]!.id, { by: 'detector', at: T0 + 10_000 });
    const seen: string[] = [];
    let before: string | undefined;
    do {
      const page = await store.listIncidents({ service, limit: 3, ...(before === undefined ? {} : { before }) });
      seen.push(...page.items.map((i) => i.id));
      before = page.nextCursor;
    } while (before !== undefined);
    expect(seen).toEqual(opened.map((i) => i.id).reverse());
    expect((await store.listIncidents({ service, status: 'resolved' })).items.map((i) => i.id)).toEqual([opened[2]!.id]);
  });

  it('finds the silence in force for a service exactly within [startsAt, endsAt), of its tenant only', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: -2_000_000, max: 2_000_000 }), async (start, length, offset) => {
      const service = `svc-${newEventId().slice(-12)}`;
      const silence = await store.createSilence({ id: newEventId(), tenant: 'acme', service, startsAt: T0 + start, endsAt: T0 + start + length, comment: 'deploy', createdBy: 'alice', createdAt: T0 });
      const at = T0 + start + offset;
      const inForce = offset >= 0 && offset < length;
      expect((await store.activeSilence('acme', service, at))?.id).toBe(inForce ? silence.id : undefined);
      expect(await store.activeSilence('globex', service, at)).toBeUndefined();
      expect((await store.listSilences({ tenant: 'acme', service, activeAt: at })).length).toBe(inForce ? 1 : 0);
    }), { numRuns: 25 });
  });

  it('deletes a silence only within its tenant, and refuses one that ends before it starts', async () => {
    const silence = await store.createSilence({ id: newEventId(), tenant: 'acme', service: 'del', startsAt: T0, endsAt: T0 + 1, comment: '', createdBy: 'a', createdAt: T0 });
    expect(await store.deleteSilence(silence.id, { tenant: 'globex' })).toBe(false);
    expect(await store.deleteSilence(silence.id, { tenant: 'acme' })).toBe(true);
    expect(await store.deleteSilence(silence.id)).toBe(false);
    await expect(store.createSilence({ ...silence, id: newEventId(), endsAt: T0 })).rejects.toMatchObject({ code: 'HLS_ERR_EVENT_INVALID', message: expect.stringContaining('endsAt') });
  });

  it('lists anomalies with their incident id, status, resolution time and report id', async () => {
    const service = `listed-${newEventId().slice(-12)}`;
    const a = anomaly({ service });
    const bare = anomaly({ service, detectedAt: T0 - 1 });
    await store.insertAnomalies([a, bare]);
    await store.openIncident(a);
    const report: IncidentReport = {
      id: newEventId(), anomalyId: a.id, tenant: 'acme', service, createdAt: T0, title: 't', severity: 'high', composer: 'c', notes: [],
      sections: { executiveSummary: 'x', rootCauseAnalysis: 'x', impactAssessment: 'x', recommendedActions: { immediate: [], shortTerm: [], longTerm: [] }, preventionMeasures: [] },
      markdown: '', deliveries: [],
    };
    const reportId = await store.saveReport(report);
    await store.resolveIncident(a.id, { by: 'detector', at: T0 + 60_000 });
    const { items } = await store.listAnomalies({ service });
    expect(items[0]).toMatchObject({ id: a.id, incidentId: a.id, status: 'resolved', resolvedAt: T0 + 60_000, reportId });
    expect(items[1]!.id).toBe(bare.id);
    expect(items[1]).not.toHaveProperty('incidentId');
    expect(items[1]).not.toHaveProperty('reportId');
  });
});
