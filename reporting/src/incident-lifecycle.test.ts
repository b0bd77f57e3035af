import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMetricsRegistry, newEventId, silentLogger, Topics, type Anomaly, type AnomalyTopicRecord, type Bus, type IncidentAcknowledgement, type IncidentReport, type IncidentResolution, type Registry } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { PluginGuard, pluginGuardMetrics, type IncidentResolutionNotice, type LoadedPlugin, type ReportDraft, type ReporterHooks } from '@helios/plugins';
import { startReportRuntime } from './report-runtime.js';
import { sampleIncident } from '@helios/plugins/testing';
import { secretSample } from '../../core/src/redaction-corpus.fixture.js';

function reporter(name: string, hooks: ReporterHooks, metrics: Registry): LoadedPlugin<ReporterHooks> {
  return { name, version: '1.0.0', kind: 'reporter', source: name, hooks, guard: new PluginGuard(name, 2000, silentLogger(), pluginGuardMetrics(metrics)), shutdown: async () => undefined };
}

const draft: ReportDraft = {
  title: 'checkout errors', severity: 'high',
  sections: { executiveSummary: 'e', rootCauseAnalysis: 'r', impactAssessment: 'i', recommendedActions: { immediate: ['a'], shortTerm: [], longTerm: [] }, preventionMeasures: [] },
};

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A report runtime with a composer, an archiving deliverer and a paging one that also resolves. */
async function harness() {
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const store: Store = createSqlStore(await createPgliteClient());
  await store.migrate();
  const bus: Bus = createMemoryBus({ capacity: 1000, retryMs: 10 });
  const paged: IncidentReport[] = [];
  const archived: IncidentReport[] = [];
  const resolved: IncidentResolutionNotice[] = [];
  const acknowledged: IncidentResolutionNotice[] = [];
  const reporters = [
    reporter('composer', { compose: () => draft }, metrics),
    reporter('archive', { deliver: (report) => void archived.push(report) }, metrics),
    reporter('pager', { pages: true, deliver: (report) => void paged.push(report), resolve: (notice) => void resolved.push(notice), acknowledge: (notice) => void acknowledged.push(notice) }, metrics),
  ];
  const runtime = startReportRuntime({ bus, store, reporters, logger: silentLogger(), metrics, freshnessTimeoutMs: 0, deliveryRetry: { maxAttempts: 1 } });
  cleanup.push(async () => {
    await runtime.close();
    await bus.close();
    await store.close();
  });
  const publish = async (value: AnomalyTopicRecord) => {
    await bus.publish<AnomalyTopicRecord>(Topics.anomalies, [{ key: `${value.tenant}/${value.service}`, value }]);
    await bus.drain(10_000);
  };
  const resolution = (anomaly: Anomaly, by = 'detector'): IncidentResolution => ({ kind: 'incident-resolved', incidentId: anomaly.id, tenant: anomaly.tenant, service: anomaly.service, resolvedAt: anomaly.detectedAt + 600_000, by });
  /** What the API does on POST …/ack: the store first, then the record. */
  const acknowledge = async (anomaly: Anomaly, by = 'oncall-key', at = anomaly.detectedAt + 1000) => {
    await store.acknowledgeIncident(anomaly.id, { by, at });
    const ack: IncidentAcknowledgement = { kind: 'incident-acknowledged', incidentId: anomaly.id, tenant: anomaly.tenant, service: anomaly.service, acknowledgedAt: at, by };
    await publish(ack);
    return ack;
  };
  return { store, bus, paged, archived, resolved, acknowledged, publish, resolution, acknowledge, metrics };
}

// Each test migrates an embedded PostgreSQL from scratch: slow on a loaded machine.
describe('incident lifecycle in the report runtime', { timeout: 90_000 }, () => {
  it('opens an incident per anomaly linked to its report, and delivers its resolution to the reporters once', async () => {
    const h = await harness();
    const { anomaly } = sampleIncident();
    await h.publish(anomaly);
    expect(h.paged).toHaveLength(1);
    const opened = await h.store.getIncident(anomaly.id);
    expect(opened).toMatchObject({ id: anomaly.id, status: 'open', reportId: h.paged[0]!.id, severity: anomaly.severity });
    expect(opened?.silencedBy).toBeUndefined();

    await h.publish(h.resolution(anomaly));
    await h.publish(h.resolution(anomaly)); // at-least-once: a redelivered resolution is not sent again
    expect(h.resolved).toHaveLength(1);
    expect(h.resolved[0]!.incident).toMatchObject({ id: anomaly.id, status: 'resolved', resolvedBy: 'detector', resolvedAt: anomaly.detectedAt + 600_000 });
    expect(h.resolved[0]!.report?.id).toBe(h.paged[0]!.id);
    expect((await h.store.getIncident(anomaly.id))?.resolutionDeliveredAt).toBeTypeOf('number');
  });

  it('delivers a resolution made through the API (store already resolved) with the API key as resolver', async () => {
    const h = await harness();
    const { anomaly } = sampleIncident();
    await h.publish(anomaly);
    await h.store.resolveIncident(anomaly.id, { by: 'oncall-key', at: anomaly.detectedAt + 1000 });
    await h.publish(h.resolution(anomaly, 'oncall-key'));
    expect(h.resolved.map((n) => [n.incident.status, n.incident.resolvedBy])).toEqual([['resolved', 'oncall-key']]);
  });

  it('delivers an acknowledgement to the acknowledge hook while the incident is acknowledged, not after its resolution', async () => {
    const h = await harness();
    const { anomaly } = sampleIncident();
    await h.publish(anomaly);
    const ack = await h.acknowledge(anomaly);
    expect(h.acknowledged.map((n) => [n.incident.id, n.incident.status, n.incident.acknowledgedBy, n.report?.id])).toEqual([[anomaly.id, 'acknowledged', 'oncall-key', h.paged[0]!.id]]);
    await h.publish(h.resolution(anomaly));
    await h.publish(ack); // redelivered after the resolution: the incident is resolved, nothing is sent
    expect(h.acknowledged).toHaveLength(1);
    expect(h.resolved.map((n) => n.incident.acknowledgedBy)).toEqual(['oncall-key']);
    // An acknowledgement record of an incident nobody acknowledged (or of another tenant) is not delivered.
    const other = { ...anomaly, id: newEventId(), detectedAt: anomaly.detectedAt + 7_200_000 };
    await h.publish(other);
    await h.publish({ kind: 'incident-acknowledged', incidentId: other.id, tenant: 'globex', service: other.service, acknowledgedAt: 1, by: 'x' });
    await h.publish({ kind: 'incident-acknowledged', incidentId: other.id, tenant: other.tenant, service: other.service, acknowledgedAt: 1, by: 'x' });
    expect(h.acknowledged).toHaveLength(1);
    expect(await h.metrics.getSingleMetricAsString('helios_incident_acknowledgements_delivered_total')).toMatch(/reporter="pager",status="delivered"} 1/);
  });

  it('passes what reporters are told of an incident’s life through redaction: feedback in acknowledge and resolve notices, the silence comment in the held-back delivery', async () => {
    const samples = fc.sample(secretSample.filter((x) => x.pii !== true), { numRuns: 40, seed: 23 });
    const h = await harness();
    const { anomaly } = sampleIncident();
    await h.publish(anomaly);
    await h.store.setIncidentFeedback(anomaly.id, { rating: 'down', comment: samples.map((x) => x.text).join(' | '), by: 'oncall-key', at: anomaly.detectedAt + 500 });
    await h.acknowledge(anomaly);
    await h.publish(h.resolution(anomaly));
    // A silence whose comment quotes the secrets holds back the next incident's page; the stored delivery says why.
    const later = { ...anomaly, id: newEventId(), service: 'payments', detectedAt: anomaly.detectedAt + 3_600_000 };
    await h.store.createSilence({ id: newEventId(), tenant: later.tenant, service: later.service, startsAt: later.detectedAt - 1000, endsAt: later.detectedAt + 3_600_000, comment: samples.map((x) => x.text).join(' | '), createdBy: 'ops', createdAt: 0 });
    await h.publish(later);
    const held = (await h.store.getReport((await h.store.getIncident(later.id))!.reportId!))!.deliveries.find((d) => d.reporter === 'pager')!;
    expect(held.status).toBe('silenced');
    const outputs: Array<[string, string]> = [['acknowledge notice', JSON.stringify(h.acknowledged)], ['resolve notice', JSON.stringify(h.resolved)], ['held-back delivery', held.error!]];
    expect(h.acknowledged).toHaveLength(1);
    expect(h.resolved).toHaveLength(1);
    expect(h.resolved[0]!.incident.feedback!.comment).toContain('[REDACTED:');
    expect(held.error).toContain('[REDACTED:');
    for (const x of samples) {
      for (const secret of x.secrets) for (const [where, text] of outputs) expect(text.includes(secret) || text.includes(JSON.stringify(secret).slice(1, -1)), `${x.kind} secret in ${where}`).toBe(false);
    }
  });

  it('holds back paging reporters under a silence, still storing the anomaly\u2019s incident and report, and says so in the report', async () => {
    const h = await harness();
    const { anomaly } = sampleIncident();
    const silence = await h.store.createSilence({ id: newEventId(), tenant: anomaly.tenant, service: anomaly.service, startsAt: anomaly.detectedAt - 1000, endsAt: anomaly.detectedAt + 3_600_000, comment: 'database migration', createdBy: 'ops', createdAt: anomaly.detectedAt - 1000 });
    await h.publish(anomaly);
    expect(h.paged).toEqual([]);
    expect(h.archived).toHaveLength(1);
    const incident = await h.store.getIncident(anomaly.id);
    expect(incident).toMatchObject({ silencedBy: silence.id, status: 'open' });
    const report = (await h.store.getReport(incident!.reportId!))!;
    expect(report.deliveries.map((d) => [d.reporter, d.status])).toEqual([['archive', 'delivered'], ['pager', 'silenced']]);
    expect(report.deliveries[1]!.error).toContain(silence.id);
    expect(report.deliveries[1]!.error).toContain('database migration');
    // Neither is the resolution of a silenced incident paged.
    await h.publish(h.resolution(anomaly));
    expect(h.resolved).toEqual([]);
    expect(await h.store.getIncident(anomaly.id)).toMatchObject({ status: 'resolved' });
    expect(await h.metrics.getSingleMetricAsString('helios_incident_resolutions_delivered_total')).toContain('status="silenced"');
  });

  it('pages again once the silence is over, and a silence of another service or tenant does not hold back', async () => {
    const h = await harness();
    const { anomaly } = sampleIncident();
    await h.store.createSilence({ id: newEventId(), tenant: anomaly.tenant, service: anomaly.service, startsAt: anomaly.detectedAt - 2000, endsAt: anomaly.detectedAt, comment: '', createdBy: 'ops', createdAt: 0 });
    await h.store.createSilence({ id: newEventId(), tenant: anomaly.tenant, service: 'other', startsAt: anomaly.detectedAt - 2000, endsAt: anomaly.detectedAt + 2000, comment: '', createdBy: 'ops', createdAt: 0 });
    await h.store.createSilence({ id: newEventId(), tenant: 'globex', service: anomaly.service, startsAt: anomaly.detectedAt - 2000, endsAt: anomaly.detectedAt + 2000, comment: '', createdBy: 'ops', createdAt: 0 });
    await h.publish(anomaly);
    expect(h.paged).toHaveLength(1);
  });

  it('resolves an incident orphaned by a detector restart as superseded when its series opens a new one, and delivers that', async () => {
    const h = await harness();
    const { anomaly } = sampleIncident();
    await h.publish(anomaly);
    // The detect process restarted: its tracker forgot the open incident and opens a new one for the same series.
    const next = { ...anomaly, id: newEventId(), detectedAt: anomaly.detectedAt + 3_600_000 };
    await h.publish(next);
    expect(await h.store.getIncident(anomaly.id)).toMatchObject({ status: 'resolved', resolvedBy: 'superseded' });
    expect(await h.store.getIncident(next.id)).toMatchObject({ status: 'open' });
    expect(h.resolved.map((n) => n.incident.id)).toEqual([anomaly.id]);
    // Another series of the service (a metric) is not affected by the request series' incidents.
    const metricAnomaly = { ...anomaly, id: newEventId(), detectedAt: next.detectedAt + 1, metric: { name: 'queue.depth', attributes: {} } };
    await h.publish(metricAnomaly);
    expect(await h.store.getIncident(next.id)).toMatchObject({ status: 'open' });
  });

  it('keeps the acknowledgement and resolution records out of the stored anomalies (storage consumer)', async () => {
    const h = await harness();
    const { startStorageConsumer } = await import('@helios/store');
    const consumer = startStorageConsumer({ bus: h.bus, store: h.store, logger: silentLogger(), maintenanceIntervalMs: 0 });
    const { anomaly } = sampleIncident();
    await h.publish(anomaly);
    await h.acknowledge(anomaly);
    await h.publish(h.resolution(anomaly));
    await consumer.close();
    expect((await h.store.listAnomalies()).items.map((a) => [a.id, a.status])).toEqual([[anomaly.id, 'resolved']]);
  });
});
