import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMetricsRegistry, silentLogger, Topics, type AnomalyTopicRecord, type IncidentRecord, type Severity } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { PluginGuard, pluginGuardMetrics, type ReporterHooks, type ReporterPlugin } from '@helios/plugins';
import { startReportRuntime } from '@helios/reporting';
import { closeAfterEach, configTableMarkdown, readmeOptionsSection, sampleIncident, sampleReport as reportWith, setupReporter } from '@helios/plugins/testing';
import { createPgliteClient, createSqlStore } from '@helios/store';
import { composeTemplateReport } from '@helios/reporter-template';
import { start, validatePagerDutyEvent } from '../conformance-server.mjs';
import plugin, { PAGERDUTY_SEVERITY, type PagerDutyEvent } from './index.js';

const closing = closeAfterEach(afterEach);
const pagerDuty = (script?: Parameters<typeof start>[0]) => closing(start(script));
const sampleReport = (severity?: Severity) => reportWith(composeTemplateReport, severity === undefined ? {} : { severity });

const resolved = (id: string): IncidentRecord => ({ id, tenant: 'acme', service: 'checkout', severity: 'high', status: 'resolved', openedAt: 1, updatedAt: 2, resolvedAt: 2, resolvedBy: 'detector' });

describe('@helios/reporter-pagerduty against an Events API v2 stand-in', () => {
  it('triggers with the incident id as dedup_key and a valid payload, then resolves the same dedup_key', async () => {
    const server = await pagerDuty();
    const { report, incident } = sampleReport();
    const hooks = await setupReporter(plugin as ReporterPlugin, { ...server.options, reportUrlTemplate: 'https://helios.example.com/api/v1/reports/{id}' });
    expect(hooks.pages).toBe(true);
    await expect(hooks.deliver!(report, incident)).resolves.toMatchObject({ location: expect.stringContaining(incident.anomaly.id) });
    await hooks.resolve!({ incident: resolved(incident.anomaly.id), report });
    const [trigger, resolve] = server.received as PagerDutyEvent[];
    expect(trigger).toMatchObject({
      routing_key: server.options['routingKey'], event_action: 'trigger', dedup_key: incident.anomaly.id,
      payload: { source: 'helios', severity: PAGERDUTY_SEVERITY[report.severity], component: 'checkout', group: incident.anomaly.tenant, custom_details: { report_id: report.id } },
      links: [{ href: `https://helios.example.com/api/v1/reports/${report.id}` }],
    });
    expect(trigger!.payload!.summary).toContain(report.title);
    expect(resolve).toEqual({ routing_key: server.options['routingKey'], event_action: 'resolve', dedup_key: incident.anomaly.id });
  });

  it('acknowledges the same dedup_key when the incident is acknowledged in Helios', async () => {
    const server = await pagerDuty();
    const { report, incident } = sampleReport();
    const hooks = await setupReporter(plugin as ReporterPlugin, server.options);
    await hooks.deliver!(report, incident);
    const acked: IncidentRecord = { ...resolved(incident.anomaly.id), status: 'acknowledged', resolvedAt: undefined, resolvedBy: undefined, acknowledgedAt: 2, acknowledgedBy: 'oncall' };
    await expect(hooks.acknowledge!({ incident: acked, report })).resolves.toMatchObject({ location: expect.stringContaining(incident.anomaly.id) });
    await hooks.resolve!({ incident: resolved(incident.anomaly.id), report });
    const events = server.received as PagerDutyEvent[];
    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(events[1]).toEqual({ routing_key: server.options['routingKey'], event_action: 'acknowledge', dedup_key: incident.anomaly.id });
    expect(validatePagerDutyEvent(events[1])).toEqual([]);
  });

  it('builds a valid trigger for every severity and any title length (summary at most 1,024 characters)', async () => {
    const { triggerEvent } = await import('./event.js');
    fc.assert(fc.property(fc.constantFrom<Severity>('critical', 'high', 'medium', 'low'), fc.string({ maxLength: 3000 }), (severity, title) => {
      const { report, incident } = sampleReport(severity);
      const event = triggerEvent('R'.repeat(32), { ...report, title }, incident, { source: 'helios' });
      expect(validatePagerDutyEvent(event)).toEqual([]);
      expect(event.payload!.summary.length).toBeLessThanOrEqual(1024);
    }), { numRuns: 50 });
  });

  it('retries a 429 (throttled) honouring Retry-After, and does not retry a 400 (invalid event)', async () => {
    const throttled = await pagerDuty({ script: [{ status: 429, headers: { 'retry-after': '0.05' } }] });
    const { report, incident } = sampleReport();
    await (await setupReporter(plugin as ReporterPlugin, { ...throttled.options, initialBackoffMs: 5 })).deliver!(report, incident);
    expect(throttled.received).toHaveLength(2);
    expect(throttled.received[1]).toEqual(throttled.received[0]); // the same event, same dedup_key

    const invalid = await pagerDuty({ script: [{ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.summary' is missing"] } }] });
    const err = await (await setupReporter(plugin as ReporterPlugin, { ...invalid.options, initialBackoffMs: 5 })).deliver!(report, incident)!.then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'HLS_ERR_PLUGIN_FAILED', message: expect.stringMatching(/after 1 attempt\(s\) \(HTTP 400: .*payload\.summary.*\); not retryable/) });
    expect(invalid.received).toHaveLength(1);
  });

  it('refuses to start without a 32-character routing key, naming routingKey', async () => {
    await expect(setupReporter(plugin as ReporterPlugin, { routingKeyEnv: 'HELIOS_TEST_UNSET_PD_KEY' })).rejects.toMatchObject({ code: 'HLS_ERR_PLUGIN_CONFIG', message: expect.stringContaining('routingKey') });
  });

  it('through the report runtime: an incident is triggered, its acknowledgement delivered as an acknowledge and its resolution as a resolve', async () => {
    const server = await pagerDuty();
    const metrics = createMetricsRegistry({ defaultMetrics: false });
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const bus = createMemoryBus({ capacity: 100 });
    const loaded = (name: string, hooks: ReporterHooks) => ({ name, version: '0', kind: 'reporter' as const, source: name, hooks, guard: new PluginGuard(name, 10_000, silentLogger(), pluginGuardMetrics(metrics)), shutdown: async () => undefined });
    const reporters = [
      loaded('template', { compose: composeTemplateReport }),
      loaded('pagerduty', await setupReporter(plugin as ReporterPlugin, server.options)),
    ];
    const runtime = startReportRuntime({ bus, store, reporters, logger: silentLogger(), metrics, freshnessTimeoutMs: 0 });
    await closing({
      async close() {
        await runtime.close();
        await bus.close();
        await store.close();
      },
    });
    const { anomaly } = sampleIncident();
    const publish = async (value: AnomalyTopicRecord) => {
      await bus.publish<AnomalyTopicRecord>(Topics.anomalies, [{ key: `${anomaly.tenant}/${anomaly.service}`, value }]);
      await bus.drain(10_000);
    };
    await publish(anomaly);
    // Acknowledged through the API: the store first, then the record on the anomalies topic.
    await store.acknowledgeIncident(anomaly.id, { by: 'oncall', at: anomaly.detectedAt + 60_000 });
    await publish({ kind: 'incident-acknowledged', incidentId: anomaly.id, tenant: anomaly.tenant, service: anomaly.service, acknowledgedAt: anomaly.detectedAt + 60_000, by: 'oncall' });
    await publish({ kind: 'incident-resolved', incidentId: anomaly.id, tenant: anomaly.tenant, service: anomaly.service, resolvedAt: anomaly.detectedAt + 600_000, by: 'detector' });
    // An acknowledgement arriving after the resolution (a redelivery) is not sent: the incident is resolved.
    await publish({ kind: 'incident-acknowledged', incidentId: anomaly.id, tenant: anomaly.tenant, service: anomaly.service, acknowledgedAt: anomaly.detectedAt + 60_000, by: 'oncall' });
    expect((server.received as PagerDutyEvent[]).map((e) => [e.event_action, e.dedup_key])).toEqual([['trigger', anomaly.id], ['acknowledge', anomaly.id], ['resolve', anomaly.id]]);
    const incident = await store.getIncident(anomaly.id);
    expect(incident).toMatchObject({ status: 'resolved', resolvedBy: 'detector', acknowledgedBy: 'oncall' });
    expect((await store.getReport(incident!.reportId!))!.deliveries).toMatchObject([{ reporter: 'pagerduty', status: 'delivered' }]);
    expect(await metrics.getSingleMetricAsString('helios_incident_acknowledgements_delivered_total')).toMatch(/reporter="pagerduty",status="delivered"} 1/);
  }, 90_000); // an embedded PostgreSQL migrated from scratch: slow on a loaded machine
});

describe('README', () => {
  it('documents exactly the options the schema validates', () => {
    expect(readmeOptionsSection(new URL('../README.md', import.meta.url))).toBe(configTableMarkdown(plugin.configSchema));
  });
});
