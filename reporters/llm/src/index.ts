import OpenAI, { APIConnectionTimeoutError, APIError, RateLimitError } from 'openai';
import { HeliosError, type Incident } from '@helios/core';
import { Type, definePlugin, type ReportDraft } from '@helios/plugins';
import { composeTemplateReport } from '@helios/reporter-template';
import { ANSWER_SCHEMA, parseModelAnswer } from './answer-schema.js';
import { buildMessages } from './prompt.js';
import { factNumbers, uncheckedNumbers } from './number-check.js';
import { createHourlyBudget, estimateCost, llmMetrics, type RequestOutcome, type Usage } from './usage.js';

const configSchema = Type.Object(
  {
    baseURL: Type.String({ default: 'https://api.openai.com/v1', description: 'OpenAI-compatible API root (OpenAI, vLLM, Ollama `http://localhost:11434/v1`, llama.cpp server).' }),
    model: Type.String({ minLength: 1, default: 'gpt-4o-mini' }),
    apiKeyEnv: Type.String({ minLength: 1, default: 'OPENAI_API_KEY', description: 'Environment variable holding the API key (keys never live in config files).' }),
    temperature: Type.Number({ minimum: 0, maximum: 2, default: 0.2 }),
    timeoutMs: Type.Integer({ minimum: 1, default: 30_000, description: 'Per request; with retries the whole call can take (maxRetries + 1) times this. Keep it under plugins.timeoutMs.' }),
    maxRetries: Type.Integer({ minimum: 0, maximum: 10, default: 1, description: 'Retries on connection errors, 408/409/429 and 5xx, with the client\'s backoff.' }),
    structuredOutput: Type.Union([Type.Literal('json_schema'), Type.Literal('json_object')], {
      default: 'json_schema', description: 'json_schema (strict structured output) or json_object for servers without it; the answer is validated either way.',
    }),
    prices: Type.Object(
      { inputPer1K: Type.Number({ minimum: 0, default: 0 }), outputPer1K: Type.Number({ minimum: 0, default: 0 }) },
      { additionalProperties: false, default: {}, description: 'USD per 1,000 prompt (input) and completion (output) tokens, for the cost estimate.' },
    ),
    budgetPerHour: Type.Object(
      { tokens: Type.Optional(Type.Integer({ minimum: 0 })), usd: Type.Optional(Type.Number({ minimum: 0 })) },
      { additionalProperties: false, default: {}, description: 'Stop calling the model once this much was spent in the last hour (the template writes the report instead).' },
    ),
    fallback: Type.Union([Type.Literal('next-composer'), Type.Literal('template')], {
      default: 'next-composer',
      description: 'On failure: throw so the next configured composer writes the report, or write the template report here (when llm is the only composer).',
    }),
  },
  { additionalProperties: false },
);

function outcomeOf(err: unknown): RequestOutcome {
  if (err instanceof APIConnectionTimeoutError) return 'timeout';
  if (err instanceof RateLimitError) return 'rate_limited';
  return 'error';
}

function describe(err: unknown): string {
  if (err instanceof APIConnectionTimeoutError) return 'the model did not answer in time';
  if (err instanceof APIError && err.status !== undefined) return `the API answered ${err.status}${err.message ? `: ${err.message.slice(0, 200)}` : ''}`;
  return (err as Error)?.message ?? String(err);
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Writes the report with a language model through any OpenAI-compatible chat-completions API.
 * The incident it gets has passed the host's redaction stage (config `redaction`, plugins/src/report-runtime.ts),
 * so no secret is in the prompt that leaves the process; the answer must match the report schema;
 * any failure throws (or falls back to the template here), so a report is always written.
 */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-llm',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'Composes the five-section report with an LLM (OpenAI or compatible), with structured output, cost metrics and an hourly budget.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const apiKey = process.env[o.apiKeyEnv];
    if ((apiKey === undefined || apiKey === '') && new URL(o.baseURL).hostname === 'api.openai.com') {
      throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `apiKeyEnv: environment variable ${o.apiKeyEnv} is not set (needed for ${o.baseURL})`);
    }
    // Local servers (Ollama, llama.cpp) take any key; the client insists on a string.
    const client = new OpenAI({ baseURL: o.baseURL, apiKey: apiKey || 'no-key', timeout: o.timeoutMs, maxRetries: o.maxRetries });
    const metrics = llmMetrics(ctx.metrics);
    const budget = createHourlyBudget(o.budgetPerHour, ctx.now);
    const model = o.model;

    function countUsage(usage: OpenAI.CompletionUsage | undefined): Usage {
      const promptTokens = usage?.prompt_tokens ?? 0;
      const completionTokens = usage?.completion_tokens ?? 0;
      const spent = { promptTokens, completionTokens, costUsd: estimateCost(promptTokens, completionTokens, o.prices) };
      metrics.tokens.inc({ model, kind: 'prompt' }, promptTokens);
      metrics.tokens.inc({ model, kind: 'completion' }, completionTokens);
      metrics.cost.inc({ model }, spent.costUsd);
      budget.record(spent);
      return spent;
    }

    async function composeWithModel(incident: Incident): Promise<ReportDraft> {
      const over = budget.exceeded();
      if (over !== undefined) {
        metrics.requests.inc({ model, outcome: 'budget_exceeded' });
        throw new HeliosError('HLS_ERR_PLUGIN_FAILED', `LLM not called: ${over}`);
      }
      const responseFormat = o.structuredOutput === 'json_schema'
        ? { type: 'json_schema' as const, json_schema: { name: 'incident_report', strict: true, schema: ANSWER_SCHEMA as unknown as Record<string, unknown> } }
        : { type: 'json_object' as const };
      let completion: OpenAI.ChatCompletion;
      try {
        completion = await client.chat.completions.create({ model, temperature: o.temperature, messages: buildMessages(incident, o.structuredOutput === 'json_object'), response_format: responseFormat });
      } catch (err) {
        metrics.requests.inc({ model, outcome: outcomeOf(err) });
        throw new HeliosError('HLS_ERR_PLUGIN_FAILED', `LLM ${model} at ${o.baseURL}: ${describe(err)}`, { cause: err });
      }
      const usage = countUsage(completion.usage);
      const parsed = parseModelAnswer(completion.choices[0]?.message?.content);
      if (!parsed.ok) {
        metrics.requests.inc({ model, outcome: 'invalid_answer' });
        throw new HeliosError('HLS_ERR_PLUGIN_FAILED', `LLM ${model} gave an unusable answer: ${parsed.problem}`);
      }
      metrics.requests.inc({ model, outcome: 'success' });
      const { title, ...sections } = parsed.answer;
      // Every number the model wrote is checked against the facts it was given; what is not among them is
      // flagged where the reader sees it, not only in the notes.
      const facts = factNumbers(incident);
      const written = [title, sections.executiveSummary, sections.rootCauseAnalysis, sections.impactAssessment, ...sections.recommendedActions.immediate, ...sections.recommendedActions.shortTerm, ...sections.recommendedActions.longTerm, ...sections.preventionMeasures].join('\n');
      const unchecked = uncheckedNumbers(written, facts);
      const flag = unchecked.length === 0 ? undefined : `Number check: ${unchecked.slice(0, 10).join(', ')}${unchecked.length > 10 ? ` and ${unchecked.length - 10} more` : ''} in the model's text ${unchecked.length === 1 ? 'is' : 'are'} not in the incident data; trust the evidence below over the text.`;
      // The evidence (detector drivers, top errors, endpoints, traces) is the template's, verbatim: the
      // model interprets it, it does not restate it.
      const templateRca = composeTemplateReport(incident).sections.rootCauseAnalysis;
      const evidence = templateRca.slice(templateRca.indexOf('\n\n') + 2);
      return {
        title,
        severity: incident.anomaly.severity,
        sections: {
          ...sections,
          executiveSummary: flag === undefined ? sections.executiveSummary : `**⚠ ${flag}**\n\n${sections.executiveSummary}`,
          rootCauseAnalysis: `${sections.rootCauseAnalysis}\n\n**Evidence** (from the stored data, as the template states it):\n\n${evidence}`.slice(0, 20_000),
        },
        notes: [
          `Written by ${model}: ${count(usage.promptTokens)} prompt + ${count(usage.completionTokens)} completion tokens, estimated cost $${usage.costUsd.toFixed(4)}.`,
          flag ?? `Number check: every number in the model's text is in the incident data.`,
        ],
      };
    }

    return {
      async compose(incident) {
        if (o.fallback === 'next-composer') return composeWithModel(incident);
        try {
          return await composeWithModel(incident);
        } catch (err) {
          const draft = composeTemplateReport(incident);
          return { ...draft, notes: [`The LLM report failed (${(err as Error).message}); this report was written by the template instead.`, ...(draft.notes ?? [])] };
        }
      },
    };
  },
});

export { ANSWER_SCHEMA, parseModelAnswer, type ModelAnswer } from './answer-schema.js';
