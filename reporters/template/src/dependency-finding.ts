import type { DependencyStats, Incident } from '@helios/core';

const pct = (x: number) => `${Math.round(x * 100)} %`;
const ms = (x: number | null) => (x === null ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const PEER_TYPE_LABEL: Record<string, string> = { http: 'HTTP', db: 'database', messaging: 'messaging', rpc: 'RPC' };

/** The dependency's own error rate rose (by 5 points and to at least twice its baseline). */
function failing(d: DependencyStats): boolean {
  return d.window.calls > 0 && d.window.errorRate - d.baseline.errorRate >= 0.05 && d.window.errorRate >= 2 * d.baseline.errorRate;
}

/** The dependency's own p95 latency rose (to at least twice its baseline and by 20 ms). */
function slower(d: DependencyStats): boolean {
  const w = d.window.p95LatencyMs, b = d.baseline.p95LatencyMs;
  return w !== null && b !== null && w >= 2 * b && w - b >= 20;
}

export interface DependencyFinding {
  dependency: DependencyStats;
  failing: boolean;
  slower: boolean;
  /** Markdown lines for the Root Cause Analysis. */
  lines: string[];
}

/**
 * The dependency a service's incident follows, when the evidence is there: the anomaly is in the calls to it,
 * or the service's errors (latency) moved while the dependency's own error rate (latency) moved too. Of
 * several, the one that moved most (the store ranks them). Undefined when no dependency moved with the service.
 */
export function dependencyFinding(incident: Incident): DependencyFinding | undefined {
  const { anomaly, context } = incident;
  const dependencies = context.dependencies ?? [];
  if (dependencies.length === 0 || anomaly.metric !== undefined) return undefined;
  const moved = new Map(anomaly.explanation.filter((e) => e.direction === 'up').map((e) => [e.feature, e]));
  const rate = (t: { events: number; errors: number }) => (t.events > 0 ? t.errors / t.events : 0);
  const errorsUp = moved.has('error_rate') || (rate(context.window) >= 0.02 && rate(context.window) >= 2 * rate(context.baseline));
  const latencyUp = moved.has('p95_latency') || moved.has('p99_latency') || moved.has('avg_latency');
  const inStream = anomaly.stream?.kind === 'dependency' ? anomaly.stream.peer : undefined;
  const candidate = dependencies.find((d) => (d.peer === inStream && (failing(d) || slower(d))) || (errorsUp && failing(d)) || (latencyUp && slower(d)))
    ?? (inStream === undefined ? undefined : dependencies.find((d) => d.peer === inStream));
  if (candidate === undefined) return undefined;
  const d = candidate;
  const isFailing = failing(d), isSlower = slower(d);
  const what: string[] = [];
  if (isFailing || d.window.errors > 0) what.push(`failed ${pct(d.window.errorRate)}${d.topFailure === null ? '' : ` with ${d.topFailure}`} (${pct(d.baseline.errorRate)} before)`);
  what.push(`took ${ms(d.window.p95LatencyMs)} p95 vs ${ms(d.baseline.p95LatencyMs)}`);
  const type = PEER_TYPE_LABEL[d.peerType];
  const follows: string[] = [];
  if (errorsUp && isFailing) follows.push('errors');
  if (latencyUp && isSlower) follows.push('latency');
  const lead = `Calls to \`${d.peer}\`${type === undefined ? '' : ` (${type})`} ${what.join(' and ')} over ${Math.round(d.window.calls).toLocaleString('en-US')} calls`;
  const tail = follows.length > 0 ? `; ${anomaly.service}'s ${follows.join(' and ')} follow them.` : inStream !== undefined ? `; the anomaly is in ${anomaly.service}'s calls to it.` : '.';
  const lines = [`**Failing dependency.** ${lead}${tail}`];
  if (d.requestErrorsWithFailedCall > 0) {
    lines.push(`${Math.round(d.requestErrorsWithFailedCall).toLocaleString('en-US')} of ${Math.round(context.window.errors).toLocaleString('en-US')} failed requests of \`${anomaly.service}\` had a failed call to \`${d.peer}\` in their trace.`);
  }
  if (d.exampleTraceIds.length > 0) lines.push(`Traces with such calls: ${d.exampleTraceIds.map((t) => `\`${t}\``).join(', ')}.`);
  return { dependency: d, failing: isFailing, slower: isSlower, lines };
}
