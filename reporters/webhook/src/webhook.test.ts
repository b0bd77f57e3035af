import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { IncidentRecord } from '@helios/core';
import type { ReporterPlugin } from '@helios/plugins';
import { closeAfterEach, configTableMarkdown, readmeOptionsSection, sampleReport as reportWith, setupReporter, startRecordingServer, type ScriptedReply } from '@helios/plugins/testing';
import { composeTemplateReport } from '@helios/reporter-template';
import plugin, { signWebhookBody, verifyWebhookSignature, type WebhookPayload } from './index.js';

const SECRET = 'receiver-shared-secret-42';
const closing = closeAfterEach(afterEach);
const sampleReport = () => reportWith(composeTemplateReport);
const signatureOf = (r: { raw: string; headers: Record<string, unknown> }) => verifyWebhookSignature(SECRET, r.headers['x-helios-signature'] as string | undefined, r.raw);

/** A receiver that checks the signature over the raw body as a real one must (401 when it fails), or answers from a script. */
const receiver = (script: ScriptedReply[] = []) => closing(startRecordingServer({ path: '/hook', script, respond: (r) => ({ status: signatureOf(r).valid ? 204 : 401 }) }));

describe('webhook signature', () => {
  it('verifies what it signed, and refuses any other body, secret or an old timestamp', () => {
    fc.assert(fc.property(fc.string(), fc.string({ minLength: 1 }), fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }), (body, extra, t) => {
      const header = signWebhookBody(SECRET, body, t);
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(SECRET, header, body, { nowSeconds: t + 10 })).toEqual({ valid: true });
      expect(verifyWebhookSignature(SECRET, header, body + extra, { nowSeconds: t })).toEqual({ valid: false, reason: 'mismatch' });
      expect(verifyWebhookSignature(`${SECRET}x`, header, body, { nowSeconds: t })).toEqual({ valid: false, reason: 'mismatch' });
      expect(verifyWebhookSignature(SECRET, header, body, { nowSeconds: t + 301 })).toEqual({ valid: false, reason: 'expired' });
      // The timestamp is signed too: moving it forward to pass the tolerance breaks the signature.
      expect(verifyWebhookSignature(SECRET, header.replace(`t=${t}`, `t=${t + 1}`), body, { nowSeconds: t })).toEqual({ valid: false, reason: 'mismatch' });
    }), { numRuns: 100 });
    expect(verifyWebhookSignature(SECRET, undefined, '')).toEqual({ valid: false, reason: 'malformed' });
    expect(verifyWebhookSignature(SECRET, 't=abc,v1=00', '')).toEqual({ valid: false, reason: 'malformed' });
  });
});

describe('@helios/reporter-webhook', () => {
  it('posts a signed opening, then a signed acknowledgement and a signed resolution of the same incident', async () => {
    const hook = await receiver();
    const { report, incident } = sampleReport();
    const hooks = await setupReporter(plugin as ReporterPlugin, { url: hook.url, secret: SECRET, reportUrlTemplate: 'https://helios.example.com/r/{id}' });
    expect(hooks.pages).toBe(true);
    await expect(hooks.deliver!(report, incident)).resolves.toEqual({ location: `webhook:${new URL(hook.url).host}` });
    const resolvedIncident: IncidentRecord = { id: incident.anomaly.id, tenant: 'acme', service: 'checkout', severity: 'high', status: 'resolved', openedAt: incident.anomaly.detectedAt, updatedAt: incident.anomaly.detectedAt + 60_000, resolvedAt: incident.anomaly.detectedAt + 60_000, resolvedBy: 'oncall' };
    const ackedIncident: IncidentRecord = { ...resolvedIncident, status: 'acknowledged', resolvedAt: undefined, resolvedBy: undefined, acknowledgedAt: incident.anomaly.detectedAt + 30_000, acknowledgedBy: 'oncall' };
    await hooks.acknowledge!({ incident: ackedIncident, report });
    await hooks.resolve!({ incident: resolvedIncident, report });
    expect(hook.received.map(signatureOf)).toEqual([{ valid: true }, { valid: true }, { valid: true }]);
    const [opened, acknowledged, resolved] = hook.received.map((r) => JSON.parse(r.raw) as WebhookPayload);
    expect(acknowledged).toMatchObject({ type: 'incident.acknowledged', incident: { id: incident.anomaly.id, status: 'acknowledged', acknowledgedBy: 'oncall', acknowledgedAt: new Date(ackedIncident.acknowledgedAt!).toISOString() }, report: { id: report.id } });
    expect(opened).toMatchObject({ type: 'incident.opened', incident: { id: incident.anomaly.id, status: 'open', service: 'checkout' }, report: { id: report.id, title: report.title, url: `https://helios.example.com/r/${report.id}` } });
    expect(resolved).toMatchObject({ type: 'incident.resolved', incident: { id: incident.anomaly.id, status: 'resolved', resolvedBy: 'oncall', resolvedAt: new Date(resolvedIncident.resolvedAt!).toISOString() }, report: { id: report.id } });
    expect(hook.received.map((r) => r.headers['x-helios-event'])).toEqual(['incident.opened', 'incident.acknowledged', 'incident.resolved']);
  });

  it('retries 5xx and 429 (waiting Retry-After) with the same body and delivery id, each attempt signed', async () => {
    const hook = await receiver([{ status: 503 }, { status: 429, headers: { 'retry-after': '1' } }]);
    const { report, incident } = sampleReport();
    await (await setupReporter(plugin as ReporterPlugin, { url: hook.url, secret: SECRET, initialBackoffMs: 5 })).deliver!(report, incident);
    expect(hook.received).toHaveLength(3);
    expect(new Set(hook.received.map((r) => r.raw)).size).toBe(1);
    expect(new Set(hook.received.map((r) => r.headers['x-helios-delivery'])).size).toBe(1);
    expect(hook.received.every((r) => signatureOf(r).valid)).toBe(true);
    expect(hook.received[2]!.at - hook.received[1]!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxAttempts, and at once on a 4xx other than 429', async () => {
    const down = await receiver([{ status: 500 }, { status: 500 }, { status: 500 }]);
    const refused = await receiver([{ status: 410 }]);
    const { report, incident } = sampleReport();
    await expect((await setupReporter(plugin as ReporterPlugin, { url: down.url, secret: SECRET, maxAttempts: 3, initialBackoffMs: 1 })).deliver!(report, incident)).rejects.toThrow(/after 3 attempt\(s\) \(HTTP 500\)/);
    expect(down.received).toHaveLength(3);
    await expect((await setupReporter(plugin as ReporterPlugin, { url: refused.url, secret: SECRET, initialBackoffMs: 1 })).deliver!(report, incident)).rejects.toThrow(/after 1 attempt\(s\) \(HTTP 410\); not retryable/);
    expect(refused.received).toHaveLength(1);
  });

  it('refuses to start without a URL or without a signing secret, naming the option', async () => {
    await expect(setupReporter(plugin as ReporterPlugin, { urlEnv: 'HELIOS_TEST_UNSET_URL', secret: SECRET })).rejects.toMatchObject({ code: 'HLS_ERR_PLUGIN_CONFIG', message: expect.stringContaining('url:') });
    await expect(setupReporter(plugin as ReporterPlugin, { url: 'http://127.0.0.1:1/x', secretEnv: 'HELIOS_TEST_UNSET_SECRET' })).rejects.toMatchObject({ code: 'HLS_ERR_PLUGIN_CONFIG', message: expect.stringContaining('secret:') });
  });
});

describe('README', () => {
  it('documents exactly the options the schema validates', () => {
    expect(readmeOptionsSection(new URL('../README.md', import.meta.url))).toBe(configTableMarkdown(plugin.configSchema));
  });
});
