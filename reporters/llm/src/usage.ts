import { Counter, type Registry } from 'prom-client';

export type RequestOutcome = 'success' | 'error' | 'timeout' | 'rate_limited' | 'invalid_answer' | 'budget_exceeded';

export interface LlmMetrics {
  tokens: Counter<'model' | 'kind'>;
  cost: Counter<'model'>;
  requests: Counter<'model' | 'outcome'>;
}

// One set per registry: several llm reporters (e.g. two models) share the metric names, told apart by `model`.
const metricsByRegistry = new WeakMap<Registry, LlmMetrics>();

export function llmMetrics(registry: Registry): LlmMetrics {
  let m = metricsByRegistry.get(registry);
  if (m === undefined) {
    m = {
      tokens: new Counter({ name: 'helios_llm_tokens_total', help: 'Tokens used by the LLM reporter, by model and kind (prompt, completion)', labelNames: ['model', 'kind'], registers: [registry] }),
      cost: new Counter({ name: 'helios_llm_cost_usd_total', help: 'Estimated LLM cost in USD from the configured prices', labelNames: ['model'], registers: [registry] }),
      requests: new Counter({ name: 'helios_llm_requests_total', help: 'LLM report requests by model and outcome', labelNames: ['model', 'outcome'], registers: [registry] }),
    };
    metricsByRegistry.set(registry, m);
  }
  return m;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export function estimateCost(promptTokens: number, completionTokens: number, prices: { inputPer1K: number; outputPer1K: number }): number {
  return (promptTokens / 1000) * prices.inputPer1K + (completionTokens / 1000) * prices.outputPer1K;
}

const HOUR_MS = 3_600_000;

/**
 * Spend over the last hour (sliding). Checked before a call, so one call can overshoot the budget by
 * its own size; the next one is refused until older spend leaves the hour.
 */
export function createHourlyBudget(limits: { tokens?: number; usd?: number }, now: () => number) {
  const spent: Array<{ at: number; tokens: number; usd: number }> = [];
  function prune(): void {
    const cutoff = now() - HOUR_MS;
    while (spent.length > 0 && spent[0]!.at <= cutoff) spent.shift();
  }
  return {
    record(usage: Usage): void {
      spent.push({ at: now(), tokens: usage.promptTokens + usage.completionTokens, usd: usage.costUsd });
    },
    /** Undefined while under budget, else why not. */
    exceeded(): string | undefined {
      prune();
      const tokens = spent.reduce((s, x) => s + x.tokens, 0);
      const usd = spent.reduce((s, x) => s + x.usd, 0);
      if (limits.tokens !== undefined && tokens >= limits.tokens) return `hourly token budget spent (${tokens} of ${limits.tokens} tokens in the last hour)`;
      if (limits.usd !== undefined && usd >= limits.usd) return `hourly cost budget spent ($${usd.toFixed(4)} of $${limits.usd} in the last hour)`;
      return undefined;
    },
  };
}
