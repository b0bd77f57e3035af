import fc from 'fast-check';
import parser from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, type FeatureExplanation, type Incident, type MinuteTotals } from '@helios/core';
import { renderIncidentCharts, robustDeviation } from '@helios/plugins';
import { sampleIncident } from '@helios/plugins/testing';
import { composeTemplateReport } from './compose.js';

const LABEL_OF: Record<string, string> = {
  total_events: 'traffic (events per window)', error_rate: 'error rate', avg_latency: 'average latency', p95_latency: 'p95 latency',
  p99_latency: 'p99 latency', latency_stddev: 'latency spread (stddev)', unique_endpoints: 'distinct endpoints',
};

const explanationArb = fc.uniqueArray(fc.constantFrom(...FEATURE_NAMES), { minLength: 1, maxLength: 7 }).chain((features) =>
  fc.tuple(...features.map((feature) => fc.record({
    feature: fc.constant(feature),
    value: fc.double({ min: 0, max: 1e5, noNaN: true }),
    baseline: fc.double({ min: 0, max: 1e5, noNaN: true }),
    contribution: fc.double({ min: 0, max: 1, noNaN: true }),
  }))).map((es) => es.map((e): FeatureExplanation => ({ ...e, direction: e.value > e.baseline ? 'up' : e.value < e.baseline ? 'down' : 'flat' }))));

/** A service's minutes: `normal` per minute around an anomalous stretch [outFrom, outTo) of `bad` per minute. */
function minutes(start: number, n: number, outFrom: number, outTo: number, read: (i: number, out: boolean) => Omit<MinuteTotals, 'minute'>): MinuteTotals[] {
  return Array.from({ length: n }, (_, i) => ({ minute: start + i * 60_000, ...read(i, i >= outFrom && i < outTo) }));
}

function withTimeline(incident: Incident, { recoveredAfter, others = [] }: { recoveredAfter?: number; others?: Incident['context']['timeline'] extends infer T ? T extends { anomalies: infer A } ? A : never : never }): Incident {
  const a = incident.anomaly;
  const start = a.windowStart - 60 * 60_000;
  // The errors start 2 minutes into the window; the service is measured until `recoveredAfter` minutes past the window end (or still failing).
  const outFrom = 62;
  const total = 65 + (recoveredAfter ?? 0) + 10;
  const outTo = recoveredAfter === undefined ? total : 65 + recoveredAfter;
  const mins = minutes(start, total, outFrom, outTo, (i, out) => ({ events: 120 + (i % 3), errors: out ? 42 : 1 + (i % 2), avgLatencyMs: 45, p95LatencyMs: 80 }));
  return { ...incident, context: { ...incident.context, timeline: { minutes: mins, anomalies: [{ service: a.service, windowStart: a.windowStart, windowEnd: a.windowEnd, severity: 'high', feature: 'error_rate' }, ...others], asOf: mins[mins.length - 1]!.minute + 60_000 } } };
}

describe('template report: title, span, other services, actions', () => {
  it('titles the report by the largest robust deviation, whatever order the detector ranked the features in', () => {
    fc.assert(fc.property(explanationArb, (explanation) => {
      const incident = sampleIncident();
      incident.anomaly.explanation = explanation;
      const title = composeTemplateReport(incident).title;
      const moved = explanation.filter((e) => e.direction !== 'flat');
      const pool = moved.length > 0 ? moved : explanation;
      const best = Math.max(...pool.map(robustDeviation));
      const named = pool.filter((e) => title.includes(`— ${LABEL_OF[e.feature]} `));
      expect(named.length, title).toBeGreaterThan(0);
      expect(Math.max(...named.map(robustDeviation))).toBe(best);
    }), { numRuns: 300 });
  });

  it('names the feature that moved most even when the detector attributed more to another', () => {
    const incident = sampleIncident();
    // The detector gave latency most of the score; error rate moved ~3.4 in log terms, latency 8% (0.09).
    incident.anomaly.explanation = [
      { feature: 'p95_latency', value: 88, baseline: 80, contribution: 0.7, direction: 'up' },
      { feature: 'error_rate', value: 0.3, baseline: 0.01, contribution: 0.3, direction: 'up' },
    ];
    expect(composeTemplateReport(incident).title).toBe('HIGH: checkout — error rate up (30.0% vs typical 1.0%)');
  });

  it('states when the incident started, how long it lasted and whether it is still going', () => {
    const incident = sampleIncident();
    const errorsStart = new Date(incident.anomaly.windowStart + 2 * 60_000).toISOString().slice(11, 16);
    const ongoing = composeTemplateReport(withTimeline(incident, {}));
    expect(ongoing.sections.executiveSummary).toMatch(new RegExp(`started at ${errorsStart} UTC and is still going as of \\d\\d:\\d\\d UTC \\(\\d+ min so far\\)`));
    const recovered = composeTemplateReport(withTimeline(incident, { recoveredAfter: 5 }));
    const end = new Date(incident.anomaly.windowEnd + 5 * 60_000).toISOString().slice(11, 16);
    expect(recovered.sections.executiveSummary).toContain(`started at ${errorsStart} UTC and recovered at ${end} UTC after 8 min`);
    // Without a timeline (older hosts), no span sentence rather than a made-up one.
    expect(composeTemplateReport(sampleIncident()).sections.executiveSummary).not.toMatch(/started at/);
  });

  it('lists the other services anomalous in the same minutes, and only those', () => {
    const incident = sampleIncident();
    const a = incident.anomaly;
    const draft = composeTemplateReport(withTimeline(incident, { recoveredAfter: 5, others: [
      { service: 'payments', windowStart: a.windowStart, windowEnd: a.windowEnd, severity: 'critical', feature: 'error_rate' },
      { service: 'search', windowStart: a.windowStart - 50 * 60_000, windowEnd: a.windowStart - 45 * 60_000, severity: 'low', feature: 'total_events' },
    ] }));
    expect(draft.sections.impactAssessment).toMatch(/Other services affected: `payments` \(critical, from \d\d:\d\d UTC\)$/m);
    expect(draft.sections.impactAssessment).not.toContain('search');
    expect(composeTemplateReport(withTimeline(sampleIncident(), {})).sections.impactAssessment).toContain('Other services affected: none in the same minutes');
  });

  it('recommends actions from the evidence: the error code, the failing endpoint, a trace; one generic line', () => {
    const immediate = composeTemplateReport(sampleIncident()).sections.recommendedActions.immediate;
    expect(immediate[0]).toMatch(/^Start from `DB_TIMEOUT` \("database connection timeout after 5000 ms"\): 200 events/);
    expect(immediate[1]).toBe('Look at `/api/payments` first: 190 of its 200 requests failed, p95 2.40 s.');
    expect(immediate[2]).toBe('Open trace `0af7651916cd43dd8448eb211c80319c` to see the failing call end to end.');
    expect(immediate).toHaveLength(4);
  });
});

describe('incident chart', () => {
  it('is valid XML with the anomalous window marked and the baseline band drawn', () => {
    const incident = withTimeline(sampleIncident(), { recoveredAfter: 5 });
    const chart = renderIncidentCharts(incident)[0]!;
    expect(chart.feature).toBe('error_rate');
    expect(parser.validate(chart.svg)).toBe(true);
    const doc = parser.parse(chart.svg, { ignoreAttributes: false, attributeNamePrefix: '' }) as { svg: { rect: Array<Record<string, string>>; line: Array<Record<string, string>>; polyline: unknown } };
    const rect = (cls: string) => doc.svg.rect.find((r) => r['class'] === cls)!;
    expect(Number(rect('anomalous-window')['data-from'])).toBe(incident.anomaly.windowStart);
    expect(Number(rect('anomalous-window')['data-to'])).toBe(incident.anomaly.windowEnd);
    // The band is around the one baseline (the detector's typical error rate, 1%) and excludes the incident's 35%.
    const band = rect('baseline-band');
    expect(Number(band['data-low'])).toBeLessThanOrEqual(0.01);
    expect(Number(band['data-high'])).toBeGreaterThan(0.01);
    expect(Number(band['data-high'])).toBeLessThan(0.3);
    expect(Number(doc.svg.line.find((l) => l['class'] === 'baseline')!['data-value'])).toBe(0.01);
    expect(Number(rect('anomalous-window')['x'])).toBeGreaterThan(56);
    expect(doc.svg.polyline).toBeDefined();
  });

  it('escapes what it prints from the data and has no chart without a timeline', () => {
    const incident = withTimeline(sampleIncident(), {});
    incident.anomaly.service = '<script>&"x"';
    const chart = renderIncidentCharts(incident)[0]!;
    expect(parser.validate(chart.svg)).toBe(true);
    expect(chart.svg).not.toContain('<script>');
    expect(renderIncidentCharts(sampleIncident())).toEqual([]);
  });
});
