import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry, HeliosError, silentLogger } from '@helios/core';
import { resolvePluginOptions, type PluginContext, type ReporterHooks } from '@helios/plugins';
import { checkPluginConformance, closeAfterEach, fixtureStore, sampleReport as reportWith, startRecordingServer, type ScriptedReply } from '@helios/plugins/testing';
import { composeTemplateReport } from '@helios/reporter-template';
import plugin from './index.js';

const closing = closeAfterEach(afterEach);
const sampleReport = () => reportWith(composeTemplateReport);

/** A local HTTP server in place of hooks.slack.com: records each POST, answers from a script (its last reply repeats); bodies parsed as JSON. */
async function startFakeWebhook(script: ScriptedReply[]) {
  const server = await closing(startRecordingServer({ path: '/services/T000/B000/XXXX', repeatLast: true, script: script.map((r) => ({ ...r, headers: { 'content-type': 'text/plain', ...r.headers }, body: r.body ?? (r.status === 200 ? 'ok' : 'error') })) }));
  return { url: server.url, get received() { return server.received.map((r) => ({ at: r.at, body: JSON.parse(r.raw) as unknown, headers: r.headers })); } };
}

async function slack(options: Record<string, unknown>) {
  const ctx = {
    options: resolvePluginOptions(plugin, options, 'slack'), logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }),
    store: fixtureStore(), dataDir: '/tmp', stateDir: '/tmp', now: Date.now,
  } as PluginContext<never>;
  return (await plugin.setup(ctx)) as ReporterHooks;
}

describe('@helios/reporter-slack through the real @slack/webhook client', () => {
  it('posts a concise Block Kit message with severity, service, summary and the report link', async () => {
    const hook = await startFakeWebhook([{ status: 200 }]);
    const { report, incident } = sampleReport();
    const reporter = await slack({ webhookUrl: hook.url, reportUrlTemplate: 'https://helios.example.com/api/v1/reports/{id}?format=markdown' });
    await expect(reporter.deliver!(report, incident)).resolves.toEqual({ location: `slack:${new URL(hook.url).host}` });
    expect(hook.received).toHaveLength(1);
    const body = hook.received[0]!.body as { text: string; blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }>; elements?: Array<{ url?: string }> }> };
    expect(body.text).toBe(`HIGH checkout: ${report.title}`);
    expect(body.blocks[0]).toMatchObject({ type: 'header', text: { text: report.title } });
    expect(body.blocks[1]!.fields![0]!.text).toContain('HIGH');
    expect(body.blocks[1]!.fields![1]!.text).toContain('`checkout`');
    expect(body.blocks[2]!.text!.text.length).toBeLessThanOrEqual(600);
    expect(body.blocks[2]!.text!.text).toContain('checkout');
    const button = body.blocks.find((b) => b.type === 'actions')!.elements![0]!;
    expect(button.url).toBe(`https://helios.example.com/api/v1/reports/${report.id}?format=markdown`);
    expect(JSON.stringify(body).length).toBeLessThan(4000);
  });

  it('waits as long as Retry-After says on a 429, then delivers', async () => {
    const hook = await startFakeWebhook([{ status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }, { status: 200 }]);
    const { report, incident } = sampleReport();
    const reporter = await slack({ webhookUrl: hook.url, initialBackoffMs: 10 });
    await reporter.deliver!(report, incident);
    expect(hook.received).toHaveLength(2);
    // Retry-After: 1 (seconds) is honoured rather than the 10 ms backoff; a lower bound, not a timing budget.
    expect(hook.received[1]!.at - hook.received[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('caps Retry-After at maxRetryAfterMs and gives up after maxAttempts with the status in the error', async () => {
    const hook = await startFakeWebhook([{ status: 429, headers: { 'retry-after': '3600' }, body: 'rate_limited' }]);
    const { report, incident } = sampleReport();
    const reporter = await slack({ webhookUrl: hook.url, maxAttempts: 3, maxRetryAfterMs: 20 });
    const err = await reporter.deliver!(report, incident)?.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HeliosError);
    expect((err as Error).message).toMatch(/after 3 attempt\(s\) \(HTTP 429: rate_limited\)/);
    expect(hook.received).toHaveLength(3);
  });

  it('retries a 5xx with backoff but not a 4xx such as a revoked webhook (404)', async () => {
    const flaky = await startFakeWebhook([{ status: 503 }, { status: 200 }]);
    const gone = await startFakeWebhook([{ status: 404, body: 'no_service' }]);
    const { report, incident } = sampleReport();
    await (await slack({ webhookUrl: flaky.url, initialBackoffMs: 5 })).deliver!(report, incident);
    expect(flaky.received).toHaveLength(2);
    await expect((await slack({ webhookUrl: gone.url, initialBackoffMs: 5 })).deliver!(report, incident)).rejects.toThrow(/after 1 attempt\(s\) \(HTTP 404: no_service\)/);
    expect(gone.received).toHaveLength(1);
  });

  it('posts the resolution of an incident it paged: service, who resolved it, how long it lasted, the report link', async () => {
    const hook = await startFakeWebhook([{ status: 200 }]);
    const { report, incident } = sampleReport();
    const reporter = await slack({ webhookUrl: hook.url, reportUrlTemplate: 'https://helios.example.com/r/{id}' });
    expect(reporter.pages).toBe(true);
    const a = incident.anomaly;
    await reporter.resolve!({ incident: { id: a.id, tenant: a.tenant, service: a.service, severity: a.severity, status: 'resolved', openedAt: a.detectedAt, updatedAt: a.detectedAt + 42 * 60_000, resolvedAt: a.detectedAt + 42 * 60_000, resolvedBy: 'alice' }, report });
    const body = hook.received[0]!.body as { text: string; blocks: Array<{ text: { text: string } }> };
    expect(body.text).toBe(`RESOLVED checkout: ${report.title}`);
    expect(body.blocks[0]!.text.text).toMatch(/^:white_check_mark: Resolved: `checkout` .* by alice after 42 min \(<https:\/\/helios\.example\.com\/r\/[0-9a-f-]+\|report>\)$/);
  });

  it('reads the webhook URL from the environment, and refuses to start without one', async () => {
    await expect(slack({ webhookUrlEnv: 'HELIOS_TEST_UNSET_WEBHOOK' })).rejects.toThrow(/webhookUrl: not set, and environment variable HELIOS_TEST_UNSET_WEBHOOK/);
  });

  it('passes the plugin conformance check against a local webhook', async () => {
    const hook = await startFakeWebhook([{ status: 200 }]);
    const result = await checkPluginConformance(new URL('./index.ts', import.meta.url).pathname, 'reporter', { options: { webhookUrl: hook.url }, badOptions: { options: { webhookUrl: hook.url, maxAttempts: 0 }, key: 'maxAttempts' } });
    expect(result.outputs).toEqual([{ location: `slack:${new URL(hook.url).host}` }, { location: `slack:${new URL(hook.url).host}` }]); // the report, then its resolution
  });
});
