import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry, HeliosError, silentLogger, type Incident, type Registry } from '@helios/core';
import { resolvePluginOptions, type PluginContext, type ReporterHooks } from '@helios/plugins';
import { fixtureStore, sampleIncident } from '@helios/plugins/testing';
import { composeTemplateReport } from '@helios/reporter-template';
import plugin from './index.js';
import { startFakeOpenAI, validAnswer, type FakeAnswer } from './testing/fake-openai-server.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(script: FakeAnswer[], options: Record<string, unknown> = {}, now: () => number = Date.now) {
  const server = await startFakeOpenAI(script);
  servers.push(server);
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const resolved = resolvePluginOptions(plugin, { baseURL: server.baseURL, model: 'test-model', maxRetries: 0, timeoutMs: 2000, ...options }, 'llm');
  const ctx = { options: resolved, logger: silentLogger(), metrics, store: fixtureStore(), dataDir: '/tmp', stateDir: '/tmp', now } as PluginContext<never>;
  const hooks = (await plugin.setup(ctx)) as ReporterHooks;
  return { server, metrics, compose: (incident: Incident = sampleIncident()) => hooks.compose!(incident) };
}

async function metricValue(metrics: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []).find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('@helios/reporter-llm against an OpenAI-compatible server (real openai client)', () => {
  it('writes the report from a schema-valid answer, records tokens and cost in notes and metrics', async () => {
    const { server, metrics, compose } = await setup([{ kind: 'content', content: validAnswer(), usage: { prompt_tokens: 1500, completion_tokens: 500 } }], { prices: { inputPer1K: 0.01, outputPer1K: 0.03 } });
    const draft = await compose();
    expect(draft.title).toBe('HIGH: checkout — database timeouts');
    expect(draft.severity).toBe('high');
    expect(draft.sections.recommendedActions.immediate).toEqual(['Check the database.']);
    expect(draft.notes?.[0]).toBe('Written by test-model: 1,500 prompt + 500 completion tokens, estimated cost $0.0300.');
    // Its numbers (35%, 200 events, 80 ms, 1.4 s, 190 of 200) are all in the context, rounded or converted.
    expect(draft.notes?.[1]).toBe('Number check: every number in the model\'s text is in the incident data.');
    expect(draft.sections.executiveSummary).not.toContain('Number check');

    const sent = JSON.parse(server.requests[0]!.body) as { model: string; temperature: number; response_format: { type: string; json_schema: { strict: boolean; schema: { required: string[] } } }; messages: Array<{ role: string; content: string }> };
    expect(sent.model).toBe('test-model');
    expect(sent.temperature).toBe(0.2);
    expect(sent.response_format.type).toBe('json_schema');
    expect(sent.response_format.json_schema.strict).toBe(true);
    expect(sent.response_format.json_schema.schema.required).toContain('rootCauseAnalysis');
    expect(sent.messages[1]!.content).toContain('DB_TIMEOUT');

    expect(await metricValue(metrics, 'helios_llm_tokens_total', { model: 'test-model', kind: 'prompt' })).toBe(1500);
    expect(await metricValue(metrics, 'helios_llm_tokens_total', { model: 'test-model', kind: 'completion' })).toBe(500);
    expect(await metricValue(metrics, 'helios_llm_cost_usd_total', { model: 'test-model' })).toBeCloseTo(0.03, 10);
    expect(await metricValue(metrics, 'helios_llm_requests_total', { model: 'test-model', outcome: 'success' })).toBe(1);
  });

  it('keeps the template\'s evidence verbatim under the model\'s analysis', async () => {
    const { compose } = await setup([{ kind: 'content', content: validAnswer() }]);
    const draft = await compose();
    const template = composeTemplateReport(sampleIncident()).sections.rootCauseAnalysis;
    const evidence = template.slice(template.indexOf('\n\n') + 2);
    expect(evidence).toContain('DB_TIMEOUT');
    expect(draft.sections.rootCauseAnalysis.startsWith('DB_TIMEOUT dominates the errors (200 events)')).toBe(true);
    expect(draft.sections.rootCauseAnalysis.endsWith(evidence)).toBe(true);
  });

  it('flags a number the model made up, in the notes and visibly in the summary; rounded and converted ones pass', async () => {
    const { compose } = await setup([
      { kind: 'content', content: validAnswer({ executiveSummary: 'Checkout failed 47% of requests; p95 latency reached 2.4 s on /api/payments (1,400 ms overall).' }) },
      { kind: 'content', content: validAnswer({ executiveSummary: 'About 35.0% of 614 events failed (215 errors), 17.5x the usual 1.0%; 1.40 s p95.' }) },
    ]);
    const wrong = await compose();
    expect(wrong.notes?.[1]).toBe('Number check: 47% in the model\'s text is not in the incident data; trust the evidence below over the text.');
    expect(wrong.sections.executiveSummary.startsWith('**⚠ Number check: 47%')).toBe(true);
    const right = await compose();
    expect(right.notes?.[1]).toBe('Number check: every number in the model\'s text is in the incident data.');
  });

  it('gives up on a slow answer after timeoutMs', async () => {
    const { compose, metrics } = await setup([{ kind: 'content', content: validAnswer(), delayMs: 5000 }], { timeoutMs: 200 });
    await expect(compose()).rejects.toThrow(/did not answer in time/);
    expect(await metricValue(metrics, 'helios_llm_requests_total', { model: 'test-model', outcome: 'timeout' })).toBe(1);
  });

  it('retries a 500 up to maxRetries through the client, then succeeds', async () => {
    const { server, compose } = await setup([{ kind: 'status', status: 500, headers: { 'retry-after-ms': '10' } }, { kind: 'content', content: validAnswer() }], { maxRetries: 1 });
    await expect(compose()).resolves.toMatchObject({ severity: 'high' });
    expect(server.requests).toHaveLength(2);
  });

  it('stops calling the model once the hourly token budget is spent, and calls again an hour later', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const { server, metrics, compose } = await setup([{ kind: 'content', content: validAnswer(), usage: { prompt_tokens: 700, completion_tokens: 300 } }], { budgetPerHour: { tokens: 1500 } }, () => clock);
    await compose(); // 1,000 tokens
    clock += 60_000;
    await compose(); // 2,000: over budget after this one
    clock += 60_000;
    await expect(compose()).rejects.toThrow(/hourly token budget spent \(2000 of 1500/);
    expect(server.requests).toHaveLength(2);
    expect(await metricValue(metrics, 'helios_llm_requests_total', { model: 'test-model', outcome: 'budget_exceeded' })).toBe(1);
    clock += 3_600_000;
    await compose();
    expect(server.requests).toHaveLength(3);
  });

  it('stops on a USD budget too', async () => {
    const { server, compose } = await setup([{ kind: 'content', content: validAnswer(), usage: { prompt_tokens: 1000, completion_tokens: 1000 } }], { prices: { inputPer1K: 0.5, outputPer1K: 0.5 }, budgetPerHour: { usd: 1 } });
    await compose();
    await expect(compose()).rejects.toThrow(/hourly cost budget spent \(\$1\.0000 of \$1/);
    expect(server.requests).toHaveLength(1);
  });

  it('json_object mode puts the schema in the prompt for servers without structured output', async () => {
    const { server, compose } = await setup([{ kind: 'content', content: validAnswer() }], { structuredOutput: 'json_object' });
    await compose();
    const sent = JSON.parse(server.requests[0]!.body) as { response_format: { type: string }; messages: Array<{ content: string }> };
    expect(sent.response_format).toEqual({ type: 'json_object' });
    expect(sent.messages[0]!.content).toContain('"executiveSummary"');
  });

  it('with fallback "template" writes the template report itself and says why', async () => {
    const { compose } = await setup([{ kind: 'status', status: 503 }], { fallback: 'template' });
    const draft = await compose();
    expect(draft.notes?.[0]).toMatch(/^The LLM report failed \(.*answered 503.*\); this report was written by the template instead\.$/);
    expect(draft.sections.rootCauseAnalysis).toContain('DB_TIMEOUT');
  });
});
