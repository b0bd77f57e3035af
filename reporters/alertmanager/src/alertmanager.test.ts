import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { metricSeriesName, newEventId, type IncidentRecord, type IncidentReport, type Severity } from '@helios/core';
import { renderReportMarkdown, type ReporterPlugin } from '@helios/plugins';
import { sampleIncident, setupReporter } from '@helios/plugins/testing';
import { composeTemplateReport } from '@helios/reporter-template';
import { start, validatePostableAlerts } from '../conformance-server.mjs';
import plugin, { firingAlert, resolvedAlert, type PostableAlert } from './index.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function alertmanager(script?: Parameters<typeof start>[0]) {
  const server = await start(script);
  closers.push(server.close);
  return server;
}

function sampleReport() {
  const incident = sampleIncident();
  const draft = composeTemplateReport(incident);
  const report: IncidentReport = {
    id: newEventId(), anomalyId: incident.anomaly.id, tenant: incident.anomaly.tenant, service: incident.anomaly.service, createdAt: Date.now(),
    composer: '@helios/reporter-template', notes: [], deliveries: [], title: draft.title, severity: draft.severity, sections: draft.sections,
    markdown: renderReportMarkdown(draft, incident, { composer: 'template', createdAt: Date.now() }),
  };
  return { report, incident };
}

describe('@helios/reporter-alertmanager against an API v2 stand-in', () => {
  it('fires an alert with the incident labels, and resolves it with the same labels and endsAt = now', async () => {
    const server = await alertmanager();
    const { report, incident } = sampleReport();
    const now = incident.anomaly.detectedAt + 120_000;
    const hooks = await setupReporter(plugin as ReporterPlugin, { ...server.options, reportUrlTemplate: 'https://helios.example.com/r/{id}' }, { now: () => now });
    expect(hooks.pages).toBe(true);
    await hooks.deliver!(report, incident);
    const record: IncidentRecord = { id: incident.anomaly.id, tenant: incident.anomaly.tenant, service: 'checkout', severity: incident.anomaly.severity, status: 'resolved', openedAt: incident.anomaly.detectedAt, updatedAt: now, resolvedAt: now, resolvedBy: 'detector' };
    await hooks.resolve!({ incident: record, report });
    const [[firing], [resolved]] = server.received.map((r) => r.body as PostableAlert[]);
    expect(firing!.labels).toEqual({ alertname: 'HeliosIncident', service: 'checkout', severity: incident.anomaly.severity, tenant: incident.anomaly.tenant, incident_id: incident.anomaly.id });
    expect(firing!.generatorURL).toBe(`https://helios.example.com/r/${report.id}`);
    expect(Date.parse(firing!.endsAt!)).toBe(now + 86_400_000); // fires until resolved (or the TTL)
    expect(resolved!.labels).toEqual(firing!.labels);
    expect(resolved!.startsAt).toBe(firing!.startsAt);
    expect(Date.parse(resolved!.endsAt!)).toBe(now);
  });

  it('builds alerts Alertmanager accepts for any service name, severity and metric series', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), fc.constantFrom<Severity>('critical', 'high', 'medium', 'low'), fc.option(fc.string({ minLength: 1 }), { nil: undefined }), fc.integer({ min: 0, max: 10 * 86_400_000 }), (service, severity, metric, later) => {
      const { report, incident } = sampleReport();
      const anomaly = { ...incident.anomaly, service, severity, ...(metric === undefined ? {} : { metric: { name: metric, attributes: {} } }) };
      const fired = firingAlert({ ...report, service }, { ...incident, anomaly }, { now: anomaly.detectedAt + later, firingTtlMs: 60_000 });
      const record: IncidentRecord = { id: anomaly.id, tenant: anomaly.tenant, service, severity, status: 'resolved', openedAt: anomaly.detectedAt, updatedAt: anomaly.detectedAt, resolvedBy: 'detector', ...(metric === undefined ? {} : { series: metricSeriesName({ name: metric, attributes: {} }) }) };
      const resolved = resolvedAlert(record, undefined, { now: anomaly.detectedAt + later });
      expect(validatePostableAlerts([fired, resolved])).toEqual([]);
      expect(resolved.labels).toEqual(fired.labels);
    }), { numRuns: 100 });
  });

  it('retries a 503, and does not retry a 400 (an alert Alertmanager refuses)', async () => {
    const flaky = await alertmanager({ script: [{ status: 503 }] });
    const { report, incident } = sampleReport();
    await (await setupReporter(plugin as ReporterPlugin, { ...flaky.options, initialBackoffMs: 5 })).deliver!(report, incident);
    expect(flaky.received).toHaveLength(2);
    const refusing = await alertmanager({ script: [{ status: 400, body: 'start time must be before end time' }] });
    await expect((await setupReporter(plugin as ReporterPlugin, { ...refusing.options, initialBackoffMs: 5 })).deliver!(report, incident)).rejects.toThrow(/after 1 attempt\(s\) \(HTTP 400: "start time must be before end time"\); not retryable/);
    expect(refusing.received).toHaveLength(1);
  });

  it('sends a bearer token when configured', async () => {
    const server = await alertmanager();
    const { report, incident } = sampleReport();
    await (await setupReporter(plugin as ReporterPlugin, { ...server.options, bearerToken: 's3cret' })).deliver!(report, incident);
    expect(server.received[0].headers.authorization).toBe('Bearer s3cret');
  });
});

describe('README', () => {
  it('documents exactly the options the schema validates', async () => {
    const { readFileSync } = await import('node:fs');
    const { configTableMarkdown, markedSection } = await import('@helios/plugins/testing');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(markedSection(readme, 'options')).toBe(configTableMarkdown(plugin.configSchema));
  });
});
