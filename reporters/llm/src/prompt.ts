import type { Incident } from '@helios/core';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { ANSWER_SCHEMA } from './answer-schema.js';

const SYSTEM = [
  'You are the incident analyst of Helios, an observability platform. You write the incident report an on-call engineer reads first.',
  'Use only the facts in the incident JSON (detector explanation, window vs baseline, top errors, slowest endpoints, tenants, example traces). Do not invent services, numbers or events; say when the data cannot tell.',
  'Sections: executiveSummary (what broke, since when, how bad, 2-4 sentences); rootCauseAnalysis (the most probable cause backed by the numbers, then alternatives; Markdown allowed);',
  'impactAssessment (services, tenants, endpoints, error counts); recommendedActions (immediate, shortTerm, longTerm: short imperative items); preventionMeasures (short items).',
  'Values shown as [REDACTED:<kind>] were removed on purpose; do not guess them.',
  'Answer with one JSON object and nothing else.',
].join('\n');

/** The chat messages for one incident; `incident` must already have passed the redaction stage (report runtime). */
export function buildMessages(incident: Incident, jsonObjectMode: boolean): ChatCompletionMessageParam[] {
  const { anomaly, context } = incident;
  const facts = {
    service: anomaly.service,
    tenant: anomaly.tenant,
    // An anomaly in one of the service's metric series (name + point attributes) rather than its requests.
    ...(anomaly.metric === undefined ? {} : { metricSeries: anomaly.metric }),
    window: { start: new Date(anomaly.windowStart).toISOString(), end: new Date(anomaly.windowEnd).toISOString() },
    detector: { name: anomaly.detector, severity: anomaly.severity, score: anomaly.score, threshold: anomaly.threshold, modelVersion: anomaly.modelVersion },
    features: anomaly.features,
    explanation: anomaly.explanation,
    context,
  };
  const schemaHint = jsonObjectMode ? `\nThe JSON object must match this JSON Schema:\n${JSON.stringify(ANSWER_SCHEMA)}` : '';
  return [
    { role: 'system', content: SYSTEM + schemaHint },
    { role: 'user', content: `Incident:\n${JSON.stringify(facts)}` },
  ];
}
