import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, silentLogger, Topics, type AnomalyTopicRecord, type Bus } from '@helios/core';
import { createKafkaBus } from '@helios/bus';
import { createPgliteClient, createSqlStore, startStorageConsumer, type Store } from '@helios/store';
import { PluginGuard, pluginGuardMetrics, type IncidentResolutionNotice, type LoadedPlugin, type ReporterHooks } from '@helios/plugins';
import { startReportRuntime } from './report-runtime.js';
import { sampleIncident } from '@helios/plugins/testing';

/**
 * The incident lifecycle over Kafka: a resolution travels on the anomalies topic behind its anomaly (same key,
 * same partition), so the report runtime always knows the incident it resolves, and the storage consumer of
 * that topic stores the anomaly only. Needs HELIOS_KAFKA_BROKERS (scripts/kafka.sh start); fails without it in CI.
 */
const brokers = (process.env['HELIOS_KAFKA_BROKERS'] ?? '').split(',').filter((b) => b.length > 0);

describe('incident lifecycle over Kafka: environment', () => {
  it.runIf(process.env['CI'] === 'true')('has a broker in CI', () => {
    expect(brokers, 'HELIOS_KAFKA_BROKERS must be set when CI=true').not.toHaveLength(0);
  });
});

describe.runIf(brokers.length > 0)('incident lifecycle over Kafka', () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  });

  it('delivers every incident\u2019s opening then its resolution, and stores only the anomalies', async () => {
    const namespace = `helios-test.lifecycle.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
    const metrics = createMetricsRegistry({ defaultMetrics: false });
    const bus: Bus = await createKafkaBus({ brokers, clientId: 'helios-lifecycle-test', namespace, retryMs: 10, topics: { [Topics.events]: { partitions: 1 }, [Topics.anomalies]: { partitions: 3 }, [Topics.reports]: { partitions: 1 } } });
    const store: Store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const events: string[] = [];
    const resolved: IncidentResolutionNotice[] = [];
    const guard = (name: string) => new PluginGuard(name, 10_000, silentLogger(), pluginGuardMetrics(metrics));
    const reporters: Array<LoadedPlugin<ReporterHooks>> = [
      { name: 'template', version: '0', kind: 'reporter', source: 'template', guard: guard('template'), shutdown: async () => undefined, hooks: { compose: () => ({ title: 't', severity: 'high', sections: { executiveSummary: 'e', rootCauseAnalysis: 'r', impactAssessment: 'i', recommendedActions: { immediate: [], shortTerm: [], longTerm: [] }, preventionMeasures: [] } }) } },
      {
        name: 'pager', version: '0', kind: 'reporter', source: 'pager', guard: guard('pager'), shutdown: async () => undefined,
        hooks: { pages: true, deliver: (report) => void events.push(`opened ${report.anomalyId}`), resolve: (notice) => void (events.push(`resolved ${notice.incident.id}`), resolved.push(notice)) },
      },
    ];
    const runtime = startReportRuntime({ bus, store, reporters, logger: silentLogger(), metrics, freshnessTimeoutMs: 0 });
    const storage = startStorageConsumer({ bus, store, logger: silentLogger(), maintenanceIntervalMs: 0 });
    closers.push(async () => {
      await runtime.close();
      await storage.close();
      await bus.close();
      await store.close();
    });

    // Three services' incidents, each anomaly immediately followed by its resolution.
    const anomalies = ['checkout', 'payments', 'search'].map((service) => ({ ...sampleIncident().anomaly, service }));
    for (const a of anomalies) {
      await bus.publish<AnomalyTopicRecord>(Topics.anomalies, [
        { key: `${a.tenant}/${a.service}`, value: a },
        { key: `${a.tenant}/${a.service}`, value: { kind: 'incident-resolved', incidentId: a.id, tenant: a.tenant, service: a.service, resolvedAt: a.detectedAt + 60_000, by: 'detector' } },
      ]);
    }
    const deadline = Date.now() + 90_000;
    while (resolved.length < anomalies.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await bus.drain(30_000)).toBe(true);

    for (const a of anomalies) {
      expect(events.filter((e) => e.endsWith(a.id))).toEqual([`opened ${a.id}`, `resolved ${a.id}`]);
      expect(await store.getIncident(a.id)).toMatchObject({ status: 'resolved', resolvedBy: 'detector', resolutionDeliveredAt: expect.any(Number) });
    }
    const stored = (await store.listAnomalies({ limit: 10 })).items;
    expect(stored.map((a) => a.id).sort()).toEqual(anomalies.map((a) => a.id).sort());
    expect(stored.every((a) => a.status === 'resolved')).toBe(true);
  }, 150_000);
});
