import { metricSeriesName, streamName, type FeatureExplanation, type FeatureName, type Incident, type MetricFeatureName, type ReportSections, type Severity } from '@helios/core';
import { byDeviation, formatDuration, incidentSpan, type ReportDraft } from '@helios/plugins';
import { dependencyFinding } from './dependency-finding.js';

const FEATURE_LABEL: Record<FeatureName | MetricFeatureName, string> = {
  total_events: 'traffic (events per window)',
  error_rate: 'error rate',
  avg_latency: 'average latency',
  p95_latency: 'p95 latency',
  p99_latency: 'p99 latency',
  latency_stddev: 'latency spread (stddev)',
  unique_endpoints: 'distinct endpoints',
  // Features of a metric series (anomaly.metric set).
  points: 'data points per window',
  mean: 'mean value',
  min: 'minimum value',
  max: 'maximum value',
  last: 'latest value',
  change: 'change of the mean since the previous window',
};

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 1)}%`;
const ms = (x: number | null) => (x === null ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`);
const count = (x: number) => Math.round(x).toLocaleString('en-US');
const time = (t: number) => new Date(t).toISOString().slice(11, 16);

export function formatFeature(feature: FeatureName | MetricFeatureName, value: number): string {
  if (feature === 'error_rate') return pct(value);
  if (feature === 'total_events' || feature === 'unique_endpoints' || feature === 'points') return count(value);
  // A metric's unit is not known here: its values stay plain numbers.
  if (feature === 'mean' || feature === 'min' || feature === 'max' || feature === 'last' || feature === 'change') return Number(value.toPrecision(4)).toLocaleString('en-US');
  return ms(value);
}

function change(e: FeatureExplanation): string {
  const ratio = e.baseline !== 0 ? e.value / e.baseline : Number.POSITIVE_INFINITY;
  const factor = Number.isFinite(ratio) && ratio > 0 ? (ratio >= 1 ? ` (${ratio.toFixed(1)}x)` : ` (${(1 / ratio).toFixed(1)}x lower)`) : '';
  return `${FEATURE_LABEL[e.feature]} ${formatFeature(e.feature, e.value)} vs typical ${formatFeature(e.feature, e.baseline)}${factor}`;
}

type Pattern = 'dependency-timeouts' | 'failing-code-path' | 'slowdown' | 'traffic-drop' | 'traffic-surge' | 'endpoint-explosion' | 'unclear';

/** Which known failure shape the moved features match; rules are ordered from most to least specific. */
export function classify(incident: Incident): Pattern {
  const moved = new Map(incident.anomaly.explanation.filter((e) => e.direction !== 'flat').map((e) => [e.feature, e]));
  const up = (f: FeatureName) => moved.get(f)?.direction === 'up';
  const errorsUp = up('error_rate');
  const latencyUp = up('p99_latency') || up('p95_latency') || up('avg_latency');
  const timeouts = incident.context.topErrors.some((e) => /timeout|timed out|deadline|unavailable|refused|ECONN/i.test(`${e.errorCode ?? ''} ${e.message}`));
  if (errorsUp && (latencyUp || timeouts || incident.anomaly.stream?.kind === 'dependency' || dependencyFinding(incident)?.failing === true)) return 'dependency-timeouts';
  if (errorsUp) return 'failing-code-path';
  if (up('unique_endpoints')) return 'endpoint-explosion';
  if (moved.get('total_events')?.direction === 'down') return 'traffic-drop';
  if (latencyUp) return 'slowdown';
  if (up('total_events')) return 'traffic-surge';
  return 'unclear';
}

const HYPOTHESIS: Record<Pattern, string> = {
  'dependency-timeouts': 'Errors and latency rose together, which points to a slow or unavailable dependency (database, downstream service, network): requests wait, time out and fail.',
  'failing-code-path': 'Errors rose while latency stayed near normal: requests fail fast, which points to a failing code path — a recent deploy, a configuration change, bad input, or a dependency rejecting requests outright.',
  slowdown: 'Latency rose without a matching rise in errors: requests still succeed but slowly, which points to saturation (CPU, connection pools, locks, GC) or a slower dependency.',
  'traffic-drop': 'Traffic fell well below its usual level while the service itself did not report errors, which points upstream: clients, a load balancer, DNS or routing no longer reach the service — or the service stopped sending telemetry.',
  'traffic-surge': 'Traffic rose well above its usual level: a client retry storm, a batch job, a marketing event, or abusive traffic.',
  'endpoint-explosion': 'The number of distinct endpoints jumped: raw paths or identifiers are being reported as routes (cardinality explosion), or the service is being scanned.',
  unclear: 'The combination of features is unusual for this service, but no single known failure pattern matches; start from the features ranked below.',
};

const ACTIONS: Record<Pattern, ReportSections['recommendedActions']> = {
  'dependency-timeouts': {
    immediate: ['Check the health and latency of the dependencies named in the top errors (database, downstream services).', 'If a deploy or config change coincides with the window start, roll it back.', 'Shed or rate-limit non-critical traffic to give the dependency room to recover.'],
    shortTerm: ['Set explicit timeouts and circuit breakers on the failing calls so slowness does not turn into errors everywhere.', 'Check connection-pool sizes and saturation on both sides.'],
    longTerm: ['Add capacity or redundancy to the dependency; load-test it at peak traffic.', 'Define an SLO and alert on the dependency itself, not only on this service.'],
  },
  'failing-code-path': {
    immediate: ['Look up the first occurrence of the top error code and the deploy/config history around it; roll back if they coincide.', 'Open one of the example traces to find the failing call.'],
    shortTerm: ['Add a regression test reproducing the top error.', 'Make the error code and message specific enough to point to the cause.'],
    longTerm: ['Gate deploys on error-rate canaries so a bad release stops at a few percent of traffic.'],
  },
  slowdown: {
    immediate: ['Check CPU, memory, GC pauses and pool saturation of the service and its dependencies.', 'Look at the slowest endpoints listed below first.'],
    shortTerm: ['Profile the slowest endpoint; look for N+1 queries, lock contention, missing indexes.', 'Scale out if the service is saturated.'],
    longTerm: ['Add latency SLOs per endpoint and capacity planning for the traffic peak.'],
  },
  'traffic-drop': {
    immediate: ['Check that clients can reach the service: load balancer, DNS, ingress, certificates.', 'Check that the service and its telemetry exporter are running (a silent service also looks like a drop).'],
    shortTerm: ['Add a synthetic probe that exercises the main endpoint from outside.'],
    longTerm: ['Alert on traffic relative to the same hour of previous days, per tenant.'],
  },
  'traffic-surge': {
    immediate: ['Identify the clients/tenants sending the extra traffic; rate-limit if abusive.', 'Watch saturation: a surge often precedes errors.'],
    shortTerm: ['Add per-client rate limits and retry budgets with backoff and jitter.'],
    longTerm: ['Autoscale on request rate; plan capacity for known events.'],
  },
  'endpoint-explosion': {
    immediate: ['List the new endpoints: if they contain ids, fix the instrumentation to report route templates.', 'If it is a scan, block the source.'],
    shortTerm: ['Enforce route templates in the HTTP middleware (Helios SDK does this).'],
    longTerm: ['Cap label cardinality in the pipeline and alert on it.'],
  },
  unclear: {
    immediate: ['Review the features ranked below and the example traces.', 'Compare with the deploy and configuration history of the window.'],
    shortTerm: ['Decide whether this is a real incident; if not, let the model learn it (it retrains on normal windows).'],
    longTerm: ['Add the missing signal (a metric or a log field) that would have explained this incident.'],
  },
};

const PREVENTION: Record<Pattern, string[]> = {
  'dependency-timeouts': ['Timeouts, retries with budgets, and circuit breakers on every remote call.', 'Dependency dashboards and alerts owned by the dependency’s team.', 'Regular failure-injection tests (kill or slow the dependency in staging).'],
  'failing-code-path': ['Canary releases with automatic rollback on error rate.', 'Contract tests between services; validate inputs at the edge.'],
  slowdown: ['Performance tests in CI for the slowest endpoints.', 'Alerting on saturation (pool usage, CPU throttling) before latency degrades.'],
  'traffic-drop': ['External synthetic monitoring.', 'Redundant ingress and DNS; change reviews for routing.'],
  'traffic-surge': ['Rate limits and quotas per client.', 'Autoscaling policies tested against surges.'],
  'endpoint-explosion': ['Route templates, not raw paths, in all instrumentation.', 'Cardinality limits in the telemetry pipeline.'],
  unclear: ['Keep the runbook for this service next to its dashboard and add this incident to it.'],
};

/**
 * The pattern's actions with the evidence put first: the top error code and where it happens, the endpoint
 * failing most. Generic lines are kept to one when the evidence gives specific ones.
 */
function evidenceActions(incident: Incident, generic: ReportSections['recommendedActions']): ReportSections['recommendedActions'] {
  const { context } = incident;
  const specific: string[] = [];
  const topError = context.topErrors[0];
  if (topError !== undefined) {
    const what = topError.errorCode === null ? `the error "${topError.message.slice(0, 120)}"` : `\`${topError.errorCode}\` ("${topError.message.slice(0, 120)}")`;
    specific.push(`Start from ${what}: ${count(topError.events)} events in the window, last at ${time(topError.lastSeen)} UTC; find what it calls and whether that changed at the window start.`);
  }
  const failing = [...context.slowestEndpoints].filter((e) => e.errors > 0).sort((a, b) => b.errors - a.errors)[0];
  if (failing !== undefined) specific.push(`Look at \`${failing.endpoint}\` first: ${count(failing.errors)} of its ${count(failing.events)} requests failed, p95 ${ms(failing.p95LatencyMs)}.`);
  const trace = context.exampleTraceIds[0];
  if (trace !== undefined) specific.push(`Open trace \`${trace}\` to see the failing call end to end.`);
  return { ...generic, immediate: specific.length === 0 ? generic.immediate : [...specific, ...generic.immediate.slice(0, 1)] };
}

function severityWord(s: Severity): string {
  return s.toUpperCase();
}

/** A complete, deterministic report from the anomaly and the stored context alone (no LLM). */
export function composeTemplateReport(incident: Incident): ReportDraft {
  const { anomaly, context } = incident;
  const pattern = classify(incident);
  // Ranked by how far each feature moved from the one baseline of the report (the detector's typical
  // value), not by the detector's order: the title names the strongest signal.
  const moved = byDeviation(anomaly.explanation.filter((e) => e.direction !== 'flat'));
  const ranked = moved.length > 0 ? moved.slice(0, 3) : byDeviation(anomaly.explanation).slice(0, 2);
  const strongest = ranked[0];
  const headline = strongest === undefined ? 'unusual behaviour' : `${FEATURE_LABEL[strongest.feature]} ${strongest.direction === 'down' ? 'down' : 'up'} (${formatFeature(strongest.feature, strongest.value)} vs typical ${formatFeature(strongest.feature, strongest.baseline)})`;
  const w = context.window;
  const typical = new Map(anomaly.explanation.map((e) => [e.feature, e.baseline]));
  const span = incidentSpan(incident);

  // An anomaly of a metric series names the series: the service's requests may look normal.
  // Series names are capped: attribute values may be long, and report sections have length limits.
  const seriesName = anomaly.metric === undefined ? '' : metricSeriesName(anomaly.metric).slice(0, 500);
  const subject = anomaly.metric !== undefined ? `metric \`${seriesName}\` of service \`${anomaly.service}\``
    : anomaly.stream?.kind === 'dependency' ? `the calls of service \`${anomaly.service}\` to \`${anomaly.stream.peer.slice(0, 200)}\``
    : anomaly.stream?.kind === 'logs' ? `the logs of service \`${anomaly.service}\``
    : `service \`${anomaly.service}\``;
  const finding = dependencyFinding(incident);
  const executiveSummary = [
    `Between ${time(anomaly.windowStart)} and ${time(anomaly.windowEnd)} UTC, ${subject} (tenant \`${anomaly.tenant}\`) deviated from its normal behaviour: ${ranked.map(change).join('; ')}.`,
    `The window held ${count(w.events)} events and ${count(w.errors)} errors (${pct(w.events > 0 ? w.errors / w.events : 0)}). Baseline throughout this report: the detector's typical value for this service (median of its training windows).`,
    ...(span === undefined ? [] : [
      `The incident started at ${time(span.start)} UTC and ${span.ongoing ? `is still going as of ${time(span.end)} UTC (${formatDuration(span.end - span.start)} so far)` : `recovered at ${time(span.end)} UTC after ${formatDuration(span.end - span.start)}`}.`,
      span.otherServices.length === 0 ? 'No other service of this tenant was anomalous in the same minutes.' : `Other services anomalous in the same minutes: ${span.otherServices.map((o) => `\`${o.service}\` (${o.severity})`).join(', ')}.`,
    ]),
    `Severity ${severityWord(anomaly.severity)} (from the error rate, tail latency and traffic against this service's baseline); ${anomaly.detector} scored the window ${anomaly.score.toFixed(3)} against its threshold of ${anomaly.threshold.toFixed(3)} for this service.`,
  ].join(' ');

  const driverLines = byDeviation(anomaly.explanation).slice(0, 4).map((e, i) => `${i + 1}. **${FEATURE_LABEL[e.feature]}** — ${formatFeature(e.feature, e.value)} vs typical ${formatFeature(e.feature, e.baseline)} (${e.direction}; ${pct(e.contribution)} of the isolation)`);
  const errorLines = context.topErrors.slice(0, 5).flatMap((e) => [
    `- \`${e.errorCode ?? 'no code'}\` — ${e.message === '' ? '(no message)' : e.message.slice(0, 200)}${e.exceptionMessage === undefined || e.exceptionMessage === e.message ? '' : ` (${e.exceptionMessage.slice(0, 300)})`}: ${count(e.events)} events`,
    ...(e.stacktrace === undefined ? [] : ['  ```', ...e.stacktrace.split('\n').slice(0, 5).map((l) => `  ${l.slice(0, 200)}`), '  ```']),
  ]);
  const endpointLines = context.slowestEndpoints.slice(0, 5).map((e) => `- \`${e.endpoint}\` — p95 ${ms(e.p95LatencyMs)}, avg ${ms(e.avgLatencyMs)}, ${count(e.errors)}/${count(e.events)} errors`);
  const rootCauseAnalysis = [
    ...(finding === undefined ? [] : [...finding.lines, '']),
    HYPOTHESIS[pattern],
    '',
    'What drove the detector, ranked by the forest’s own attribution:',
    ...driverLines,
    ...(errorLines.length > 0 ? ['', 'Most frequent errors in the window:', ...errorLines] : []),
    ...(endpointLines.length > 0 ? ['', 'Slowest endpoints in the window:', ...endpointLines] : []),
    ...(context.exampleTraceIds.length > 0 ? ['', `Example traces to open: ${context.exampleTraceIds.slice(0, 5).map((t) => `\`${t}\``).join(', ')}.`] : []),
  ].join('\n');

  const failingEndpoints = context.slowestEndpoints.filter((e) => e.errors > 0);
  const impactAssessment = [
    `- Service: \`${anomaly.service}\``,
    ...(anomaly.metric === undefined ? [] : [`- Metric series: \`${seriesName}\``]),
    ...(anomaly.stream === undefined ? [] : [`- Series: \`${streamName(anomaly.stream).slice(0, 300)}\``]),
    ...(finding === undefined ? [] : [`- Dependency: \`${finding.dependency.peer.slice(0, 200)}\` — ${count(finding.dependency.window.errors)} of ${count(finding.dependency.window.calls)} calls failed`]),
    `- Tenants: ${context.tenants.length === 0 ? '(no events stored for the window)' : context.tenants.map((t) => `\`${t.tenant}\` (${count(t.errors)} errors / ${count(t.events)} events)`).join(', ')}`,
    `- Endpoints with errors: ${failingEndpoints.length === 0 ? 'none' : failingEndpoints.map((e) => `\`${e.endpoint}\` (${count(e.errors)})`).join(', ')}`,
    `- Errors in the window: ${count(w.errors)} of ${count(w.events)} events; p95 latency ${ms(w.p95LatencyMs)}${typical.has('p95_latency') ? ` vs typical ${ms(typical.get('p95_latency')!)}` : ''}.`,
    ...(span === undefined ? [] : [`- Other services affected: ${span.otherServices.length === 0 ? 'none in the same minutes' : span.otherServices.map((o) => `\`${o.service}\` (${o.severity}, from ${time(o.from)} UTC)`).join(', ')}`]),
  ].join('\n');

  return {
    title: `${severityWord(anomaly.severity)}: ${anomaly.service.slice(0, 100)}${anomaly.metric === undefined ? '' : ` ${anomaly.metric.name.slice(0, 100)}`} — ${headline}`.slice(0, 300),
    severity: anomaly.severity,
    sections: {
      executiveSummary,
      rootCauseAnalysis,
      impactAssessment,
      recommendedActions: evidenceActions(incident, ACTIONS[pattern]),
      preventionMeasures: PREVENTION[pattern],
    },
    notes: [`Pattern: ${pattern}.`],
  };
}
