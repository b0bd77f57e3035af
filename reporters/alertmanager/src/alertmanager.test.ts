import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { metricSeriesName, type IncidentRecord, type Severity } from '@helios/core';
import type { ReporterPlugin } from '@helios/plugins';
import { closeAfterEach, configTableMarkdown, readmeOptionsSection, sampleReport as reportWith, setupReporter } from '@helios/plugins/testing';
import { composeTemplateReport } from '@helios/reporter-template';
import { start, validatePostableAlerts, validatePostableSilence } from '../conformance-server.mjs';
import plugin, { acknowledgementSilence, firingAlert, resolvedAlert, type PostableAlert } from './index.js';

const closing = closeAfterEach(afterEach);
const alertmanager = (script?: Parameters<typeof start>[0]) => closing(start(script));
const sampleReport = () => reportWith(composeTemplateReport);

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

  it('silences the alert of an acknowledged incident, and expires the silence before resolving, so the resolution is notified', async () => {
    const server = await alertmanager();
    const { report, incident } = sampleReport();
    const now = Date.now();
    const hooks = await setupReporter(plugin as ReporterPlugin, { ...server.options, ackSilenceMs: 3_600_000 }, { now: () => now });
    await hooks.deliver!(report, incident);
    const id = incident.anomaly.id;
    const acked: IncidentRecord = { id, tenant: incident.anomaly.tenant, service: 'checkout', severity: incident.anomaly.severity, status: 'acknowledged', openedAt: incident.anomaly.detectedAt, updatedAt: now, acknowledgedAt: now, acknowledgedBy: 'oncall' };
    const receipt = await hooks.acknowledge!({ incident: acked, report });
    // Redelivered: the same silence, no second one.
    await expect(hooks.acknowledge!({ incident: acked, report })).resolves.toEqual(receipt);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v2/silences']);
    const [silence] = [...server.silences.values()];
    expect(receipt).toEqual({ location: `alertmanager:${new URL(server.options['url']!).host}/silences/${silence.id}` });
    expect(silence).toMatchObject({
      matchers: [{ name: 'alertname', value: 'HeliosIncident', isRegex: false, isEqual: true }, { name: 'incident_id', value: id, isRegex: false, isEqual: true }],
      createdBy: 'helios (oncall)', status: { state: 'active' },
    });
    expect(Date.parse(silence.endsAt) - Date.parse(silence.startsAt)).toBe(3_600_000);
    // The silence matches this incident's alert and no other's.
    const [firing] = server.received[0].body as PostableAlert[];
    const matches = (labels: Record<string, string>) => silence.matchers.every((m: { name: string; value: string }) => labels[m.name] === m.value);
    expect(matches(firing!.labels)).toBe(true);
    expect(matches({ ...firing!.labels, incident_id: 'another' })).toBe(false);

    await hooks.resolve!({ incident: { ...acked, status: 'resolved', resolvedAt: now, resolvedBy: 'detector' }, report });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v2/silences', `DELETE /api/v2/silence/${silence.id}`]);
    expect(silence.status.state).toBe('expired');
    expect(server.received.map((r) => Date.parse((r.body as PostableAlert[])[0]!.endsAt!))).toEqual([now + 86_400_000, now]);
  });

  it('builds silences Alertmanager accepts for any incident and acknowledger', () => {
    fc.assert(fc.property(fc.uuid(), fc.string({ minLength: 1 }), fc.string(), fc.integer({ min: 60_000, max: 31 * 86_400_000 }), (id, service, by, durationMs) => {
      const now = Date.now();
      const record: IncidentRecord = { id, tenant: 't', service, severity: 'high', status: 'acknowledged', openedAt: now - 1, updatedAt: now, acknowledgedAt: now, acknowledgedBy: by };
      expect(validatePostableSilence(acknowledgementSilence(record, { now, durationMs }), now)).toEqual([]);
    }), { numRuns: 100 });
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
  it('documents exactly the options the schema validates', () => {
    expect(readmeOptionsSection(new URL('../README.md', import.meta.url))).toBe(configTableMarkdown(plugin.configSchema));
  });
});
