import fc from 'fast-check';
import parser from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, type FeatureExplanation, type Incident, type MinuteTotals } from '@helios/core';
import { renderIncidentCharts } from './report-chart.js';
import { sampleIncident } from './testing/fixtures.js';

type Node = Record<string, unknown>;
const parse = (svg: string) => parser.parse(svg, { ignoreAttributes: false, attributeNamePrefix: '', textNodeName: '#text', arrayMode: true }) as { svg: Node[] };
const ELEMENTS = new Set(['svg', 'title', 'desc', 'rect', 'line', 'polyline', 'text']);
const GEOMETRY = new Set(['x', 'y', 'x1', 'x2', 'y1', 'y2', 'width', 'height']);

/** Every element and attribute of a parsed chart, depth first. */
function* walk(name: string, node: unknown): Generator<{ name: string; attrs: Node }> {
  if (typeof node !== 'object' || node === null) return;
  const attrs: Node = {};
  const children: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(node as Node)) {
    if (k === '#text') continue;
    if (Array.isArray(v)) for (const c of v) children.push([k, c]);
    else if (typeof v === 'object') children.push([k, v]);
    else attrs[k] = v;
  }
  yield { name, attrs };
  for (const [k, c] of children) yield* walk(k, c);
}

/** The sample incident (error burst in `checkout`) with `minutes` as its timeline. */
function withMinutes(incident: Incident, minutes: MinuteTotals[]): Incident {
  const a = incident.anomaly;
  return { ...incident, context: { ...incident.context, timeline: { minutes, anomalies: [{ service: a.service, windowStart: a.windowStart, windowEnd: a.windowEnd, severity: 'high', feature: 'error_rate' }], asOf: (minutes[minutes.length - 1]?.minute ?? a.windowEnd) + 60_000 } } };
}

/** 75 minutes before and after the window: 120 events, 1 error, 45/80 ms a minute; inside it 42 errors and 400/1400 ms. */
function burst(incident: Incident): MinuteTotals[] {
  const start = incident.anomaly.windowStart - 60 * 60_000;
  return Array.from({ length: 75 }, (_, i) => {
    const minute = start + i * 60_000;
    const out = minute >= incident.anomaly.windowStart && minute < incident.anomaly.windowEnd;
    return { minute, events: 120 + (i % 3), errors: out ? 42 : 1, avgLatencyMs: out ? 400 : 45, p95LatencyMs: out ? 1400 : 80 };
  });
}

const anyNumber = fc.double({ noNaN: true }); // extremes included: ±Infinity, ±MAX_VALUE, -0, denormals
const nullable = fc.option(anyNumber, { nil: null });
const serviceName = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('<script>alert(1)</script>', '"><svg onload="alert(1)">', ']]><!ENTITY x "y">', '&amp;&#x3C;', 'a\u0000b\u0008c\uD800'),
);

describe('report charts', () => {
  it('are one per driving feature (strongest first, at most four), each with its baseline band and the anomalous window marked', () => {
    const incident = sampleIncident();
    const charts = renderIncidentCharts(withMinutes(incident, burst(incident)));
    // Moved and chartable in the sample: error_rate, p95 and average latency; total_events and the other features are not chartable or flat.
    expect(charts.map((c) => c.feature)).toEqual(['error_rate', 'p95_latency', 'avg_latency']);
    for (const chart of charts) {
      expect(parser.validate(chart.svg)).toBe(true);
      const nodes = [...walk('svg', parse(chart.svg).svg[0])];
      const cls = (c: string) => nodes.filter((n) => n.attrs['class'] === c).map((n) => n.attrs);
      const windows = cls('anomalous-window');
      expect(windows.map((w) => [Number(w['data-from']), Number(w['data-to'])])).toEqual([[incident.anomaly.windowStart, incident.anomaly.windowEnd]]);
      const band = cls('baseline-band')[0]!;
      const baseline = incident.anomaly.explanation.find((e) => e.feature === chart.feature)!.baseline;
      expect(Number(band['data-low'])).toBeLessThanOrEqual(baseline);
      expect(Number(band['data-high'])).toBeGreaterThan(baseline);
      expect(cls('series').length).toBeGreaterThan(0);
      expect(chart.svg).toContain(`<title>${chart.title}</title>`);
      expect(chart.svg).toMatch(/<desc>[^<]*anomalous window \d\d:\d\d–\d\d:\d\d UTC[^<]*<\/desc>/);
    }
  });

  it('stop at four, and a metric-series anomaly or an incident without a timeline has none', () => {
    const incident = sampleIncident();
    const explanation: FeatureExplanation[] = ['total_events', 'error_rate', 'avg_latency', 'p95_latency', 'p99_latency'].map((feature, i) => ({ feature, value: 1000 * (i + 2), baseline: 1, contribution: 0.2, direction: 'up' }));
    const many = withMinutes({ ...incident, anomaly: { ...incident.anomaly, explanation } }, burst(incident));
    expect(renderIncidentCharts(many)).toHaveLength(4);
    expect(renderIncidentCharts(incident)).toEqual([]);
    expect(renderIncidentCharts({ ...many, anomaly: { ...many.anomaly, metric: 'queue.depth' } })).toEqual([]);
  });

  it('are well-formed SVG with finite geometry and no script or handler, whatever the values and the service name', () => {
    const base = sampleIncident();
    const minuteArb = fc.record({ events: anyNumber, errors: anyNumber, avgLatencyMs: nullable, p95LatencyMs: nullable });
    const explanationArb = fc.uniqueArray(fc.constantFrom(...FEATURE_NAMES), { minLength: 1, maxLength: 7 }).chain((features) =>
      fc.tuple(...features.map((feature) => fc.record({ feature: fc.constant(feature as string), value: anyNumber, baseline: anyNumber, contribution: anyNumber, direction: fc.constantFrom('up' as const, 'down' as const, 'flat' as const) }))));
    fc.assert(fc.property(serviceName, fc.array(minuteArb, { minLength: 1, maxLength: 150 }), explanationArb, (service, rows, explanation) => {
      const start = base.anomaly.windowStart - 60 * 60_000;
      const incident = withMinutes({ ...base, anomaly: { ...base.anomaly, service, explanation } }, rows.map((r, i) => ({ minute: start + i * 60_000, ...r })));
      const charts = renderIncidentCharts(incident);
      expect(charts.length).toBeLessThanOrEqual(4);
      expect(new Set(charts.map((c) => c.feature)).size).toBe(charts.length);
      for (const chart of charts) {
        expect(parser.validate(chart.svg)).toBe(true);
        expect(chart.svg).not.toMatch(/<script|javascript:|href=|<foreignObject|<!ENTITY|<!\[CDATA/i);
        for (const { name, attrs } of walk('svg', parse(chart.svg).svg[0])) {
          expect(ELEMENTS.has(name), name).toBe(true);
          for (const [k, v] of Object.entries(attrs)) {
            expect(k.toLowerCase().startsWith('on'), k).toBe(false);
            if (GEOMETRY.has(k)) expect(Number.isFinite(Number(v)), `${name} ${k}=${String(v)}`).toBe(true);
            if (k === 'points') for (const xy of String(v).split(/[ ,]/)) expect(Number.isFinite(Number(xy)), `points ${String(v)}`).toBe(true);
          }
        }
      }
    }), { numRuns: 300 });
  });
});
