import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newEventId, type IncidentRecord, type IncidentReport } from '@helios/core';
import { renderReportMarkdown, type ReporterPlugin } from '@helios/plugins';
import { sampleIncident, setupReporter } from '@helios/plugins/testing';
import { composeTemplateReport } from '@helios/reporter-template';
import plugin, { signWebhookBody, verifyWebhookSignature, type WebhookPayload } from './index.js';

const SECRET = 'receiver-shared-secret-42';
type Reply = { status: number; headers?: Record<string, string> };

/** A receiver that checks the signature over the raw body as a real one must, and answers from a script. */
async function receiver(script: Reply[] = []) {
  const received: Array<{ at: number; raw: string; headers: IncomingMessage['headers']; signature: ReturnType<typeof verifyWebhookSignature> }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = verifyWebhookSignature(SECRET, req.headers['x-helios-signature'] as string | undefined, raw);
      received.push({ at: performance.now(), raw, headers: req.headers, signature });
      const reply = script[received.length - 1] ?? { status: signature.valid ? 204 : 401 };
      res.writeHead(reply.status, reply.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

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
  it('posts a signed opening, then a signed resolution of the same incident', async () => {
    const hook = await receiver();
    const { report, incident } = sampleReport();
    const hooks = await setupReporter(plugin as ReporterPlugin, { url: hook.url, secret: SECRET, reportUrlTemplate: 'https://helios.example.com/r/{id}' });
    expect(hooks.pages).toBe(true);
    await expect(hooks.deliver!(report, incident)).resolves.toEqual({ location: `webhook:${new URL(hook.url).host}` });
    const resolvedIncident: IncidentRecord = { id: incident.anomaly.id, tenant: 'acme', service: 'checkout', severity: 'high', status: 'resolved', openedAt: incident.anomaly.detectedAt, updatedAt: incident.anomaly.detectedAt + 60_000, resolvedAt: incident.anomaly.detectedAt + 60_000, resolvedBy: 'oncall' };
    await hooks.resolve!({ incident: resolvedIncident, report });
    expect(hook.received.map((r) => r.signature)).toEqual([{ valid: true }, { valid: true }]);
    const [opened, resolved] = hook.received.map((r) => JSON.parse(r.raw) as WebhookPayload);
    expect(opened).toMatchObject({ type: 'incident.opened', incident: { id: incident.anomaly.id, status: 'open', service: 'checkout' }, report: { id: report.id, title: report.title, url: `https://helios.example.com/r/${report.id}` } });
    expect(resolved).toMatchObject({ type: 'incident.resolved', incident: { id: incident.anomaly.id, status: 'resolved', resolvedBy: 'oncall', resolvedAt: new Date(resolvedIncident.resolvedAt!).toISOString() }, report: { id: report.id } });
    expect(hook.received.map((r) => r.headers['x-helios-event'])).toEqual(['incident.opened', 'incident.resolved']);
  });

  it('retries 5xx and 429 (waiting Retry-After) with the same body and delivery id, each attempt signed', async () => {
    const hook = await receiver([{ status: 503 }, { status: 429, headers: { 'retry-after': '1' } }]);
    const { report, incident } = sampleReport();
    await (await setupReporter(plugin as ReporterPlugin, { url: hook.url, secret: SECRET, initialBackoffMs: 5 })).deliver!(report, incident);
    expect(hook.received).toHaveLength(3);
    expect(new Set(hook.received.map((r) => r.raw)).size).toBe(1);
    expect(new Set(hook.received.map((r) => r.headers['x-helios-delivery'])).size).toBe(1);
    expect(hook.received.every((r) => r.signature.valid)).toBe(true);
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
  it('documents exactly the options the schema validates', async () => {
    const { readFileSync } = await import('node:fs');
    const { configTableMarkdown, markedSection } = await import('@helios/plugins/testing');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(markedSection(readme, 'options')).toBe(configTableMarkdown(plugin.configSchema));
  });
});
