import { Type, type Static } from '@sinclair/typebox';

/**
 * What travels behind the detectors: feature windows, anomalies (topic helios.anomalies),
 * the context a report is written from, and incident reports (topic helios.reports).
 */

/** The seven features of the original design, in the order of feature vectors. */
export const FEATURE_NAMES = ['total_events', 'error_rate', 'avg_latency', 'p95_latency', 'p99_latency', 'latency_stddev', 'unique_endpoints'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export type Features = Record<FeatureName, number>;

/**
 * Which stream of a service a `FeatureWindow` describes, when not its requests: its calls to one dependency
 * (client/producer spans to `peer`, features over those calls), or its log records (`total_events` = records,
 * `error_rate` = share at ERROR and above). See core/src/event/role.ts.
 */
export type FeatureStream = { kind: 'dependency'; peer: string } | { kind: 'logs' };

/** `dependency:inventory`, `logs`: how keys, logs and reports name a stream. */
export function streamName(stream: FeatureStream): string {
  return stream.kind === 'logs' ? 'logs' : `dependency:${stream.peer}`;
}

/** One closed window of one series (tenant + service [+ stream]). Times are epoch ms; the window is [start, end). */
export interface FeatureWindow {
  tenant: string;
  service: string;
  /** Absent for the service's requests; set for its dependency and log series (same seven features, same detectors). */
  stream?: FeatureStream;
  /** Never set: a window with `metric` is a `MetricWindow`. Lets `SeriesWindow` tell the two apart. */
  metric?: undefined;
  start: number;
  end: number;
  features: Features;
  /**
   * Features of the window's newest hop bucket alone ([end - hop, end)), when the producer keeps buckets:
   * a fresh change is undiluted there (the full window mixes it with older minutes). Optional: detectors
   * must work without it.
   */
  latest?: Features;
}

/**
 * A metric series: one metric name with one combination of its data points' attributes. Metric data points
 * (OTLP metrics, events of kind `metric`) are windowed apart from the service's requests, one series per
 * tenant + service + metric name + attributes, so the same detectors judge plain time series.
 */
export interface MetricSeries {
  /** The metric's name (`metric.name`, else the event's message). */
  name: string;
  /** The point attributes that identify the series (not the derived `metric.*` ones), values as text, keys sorted. */
  attributes: Readonly<Record<string, string>>;
}

/**
 * Features of a metric series' window, in the order of feature vectors. A point's value: gauges and delta
 * or non-monotonic sums their value, monotonic cumulative sums the increase since the previous point of the
 * same instance (`service.instance.id`, else pod or host name), histograms and summaries their mean
 * observation (of the interval since that previous point when cumulative). Replicas share a series. `points` counts every data point; the value features come from points with a value, and a
 * window without any keeps the previous window's values (a level persists; silence shows in `points`).
 */
export const METRIC_FEATURE_NAMES = ['points', 'mean', 'min', 'max', 'last', 'change'] as const;
export type MetricFeatureName = (typeof METRIC_FEATURE_NAMES)[number];
/** `change` is the window's mean minus the previous window's (one hop earlier); 0 for the first. */
export type MetricFeatures = Record<MetricFeatureName, number>;

/** One closed window of one metric series. Times are epoch ms; the window is [start, end). */
export interface MetricWindow {
  tenant: string;
  service: string;
  metric: MetricSeries;
  /** Never set: metric series are not streams of requests. */
  stream?: undefined;
  start: number;
  end: number;
  features: MetricFeatures;
  /**
   * The points that arrived in the window's newest hop ([end - hop, end)): the evidence this window adds
   * over the previous one (a 5-minute series' point sits in five overlapping windows, but is fresh in one).
   * Optional: producers without hop buckets leave it out, and detectors must work without it.
   */
  fresh?: MetricFreshPoints;
  /** The series' estimated sampling interval (median gap between its points, ms); absent before two points. */
  cadenceMs?: number;
}

/** Valued points of a metric window's newest hop: how many, their mean, and the newest one's time. */
export interface MetricFreshPoints {
  points: number;
  mean: number;
  min: number;
  max: number;
  lastAt: number;
}

/** A window of either kind of series; `metric` tells them apart. */
export type SeriesWindow = FeatureWindow | MetricWindow;

/** `name{k="v",…}`, the way Prometheus writes a series: how logs, incidents and reports name a metric series. */
export function metricSeriesName(metric: MetricSeries): string {
  const labels = Object.entries(metric.attributes).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return labels.length === 0 ? metric.name : `${metric.name}{${labels.join(',')}}`;
}

/** Identity of a window's series, unique across tenants, services, streams and metric series. */
export function seriesKey(window: Pick<SeriesWindow, 'tenant' | 'service' | 'metric'> & { stream?: FeatureStream | undefined }): string {
  const base = `${window.tenant}\u0000${window.service}`;
  if (window.metric !== undefined) return `${base}\u0000${metricSeriesName(window.metric)}`;
  return window.stream === undefined ? base : `${base}\u0000\u0001${streamName(window.stream)}`;
}

/**
 * The key a detector keeps a request-or-stream series' model under: `tenant/service` for the requests (the
 * key saved models have always used), `tenant/service/<stream>` for a dependency or log series.
 */
export function featureSeriesKey(window: Pick<FeatureWindow, 'tenant' | 'service' | 'stream'>): string {
  const base = `${window.tenant}/${window.service}`;
  return window.stream === undefined ? base : `${base}/${streamName(window.stream)}`;
}

export interface FeatureExplanation {
  /** A request-series feature, or a metric-series feature for an anomaly of a metric series. */
  feature: FeatureName | MetricFeatureName;
  value: number;
  /** Typical value of the series (median of the training windows). */
  baseline: number;
  /** Share of the anomaly score this feature accounts for (sums to 1 across features). */
  contribution: number;
  direction: 'up' | 'down' | 'flat';
}

/** A detector plugin's verdict on one window. */
export interface Detection {
  /** Anomaly score, higher is more anomalous; detector-specific scale, comparable to `threshold`. */
  score: number;
  threshold: number;
  anomalous: boolean;
  /** Features ranked by how much they drove the score, strongest first. */
  explanation: FeatureExplanation[];
  modelVersion: string;
}

export type Severity = 'critical' | 'high' | 'medium' | 'low';

export interface Anomaly {
  id: string;
  tenant: string;
  service: string;
  windowStart: number;
  windowEnd: number;
  detectedAt: number;
  detector: string;
  severity: Severity;
  score: number;
  threshold: number;
  /** The window's features: `MetricFeatures` when `metric` is set. */
  features: Features | MetricFeatures;
  explanation: FeatureExplanation[];
  modelVersion: string;
  /** Set when the anomaly is in a metric series of the service rather than in its requests. */
  metric?: MetricSeries;
  /** Set when the anomaly is in the service's calls to a dependency or in its logs rather than in its requests. */
  stream?: FeatureStream;
}

export interface EndpointStats {
  endpoint: string;
  events: number;
  errors: number;
  avgLatencyMs: number | null;
  p95LatencyMs: number | null;
}

export interface ErrorStats {
  errorCode: string | null;
  message: string;
  events: number;
  lastSeen: number;
  /** `exception.message` of the errors, when they recorded one (the first seen). */
  exceptionMessage?: string;
  /** First lines of `exception.stacktrace`, when recorded. */
  stacktrace?: string;
}

/** Totals of a service's calls to one dependency over some time. */
export interface DependencyTotals {
  calls: number;
  errors: number;
  errorRate: number;
  avgLatencyMs: number | null;
  p95LatencyMs: number | null;
}

/** A service's calls to one dependency in the anomaly's window and in the baseline before it. */
export interface DependencyStats {
  /** `peer.name` of the calls (core/src/event/role.ts). */
  peer: string;
  /** `http`, `db`, `messaging`, `rpc` or `other`. */
  peerType: string;
  window: DependencyTotals;
  baseline: DependencyTotals;
  /** Most frequent status (HTTP/RPC code, else error code) of the failed calls in the window. */
  topFailure: string | null;
  /** Traces in the window with a failed or slowest call to this dependency. */
  exampleTraceIds: string[];
  /** Failed requests of the service in the window whose trace holds a failed call to this dependency. */
  requestErrorsWithFailedCall: number;
}

export interface WindowTotals {
  from: number;
  to: number;
  events: number;
  errors: number;
  avgLatencyMs: number | null;
  p95LatencyMs: number | null;
}

/** One minute of a service, from its stored events (not the rollups, which lag by a maintenance round). */
export interface MinuteTotals {
  /** Start of the minute, epoch ms. */
  minute: number;
  events: number;
  errors: number;
  avgLatencyMs: number | null;
  p95LatencyMs: number | null;
}

/** An anomalous window of the tenant's services, as stored. */
export interface AnomalyWindow {
  service: string;
  windowStart: number;
  windowEnd: number;
  severity: Severity;
  /** The strongest feature of its explanation. */
  feature: FeatureName | MetricFeatureName | null;
}

/**
 * The incident around one anomalous window: the service's minutes before, during and after it, and the
 * tenant's anomalous windows nearby. What a report's start, duration, "still going" and chart come from.
 */
export interface IncidentTimeline {
  /** The service's minutes, oldest first, from well before the incident to the newest stored minute; minutes without events absent. */
  minutes: MinuteTotals[];
  /** The tenant's anomalous windows (every service) overlapping the incident's span, oldest first, bounded. */
  anomalies: AnomalyWindow[];
  /** Newest stored event time of the service when the timeline was read. */
  asOf: number;
}

/** Facts from the store around an anomaly, all of the anomaly's tenant only; every list is bounded. */
export interface IncidentContext {
  window: WindowTotals;
  /** The same service just before the anomaly (the window's length, repeated `baselineWindows` times). */
  baseline: WindowTotals;
  topErrors: ErrorStats[];
  slowestEndpoints: EndpointStats[];
  /** The anomaly's tenant's totals in the window (one entry, none without events): a report never names another tenant. */
  tenants: Array<{ tenant: string; events: number; errors: number }>;
  exampleTraceIds: string[];
  /**
   * The service's calls to its dependencies (client/producer spans), window vs baseline, most changed first.
   * Optional: contexts built before dependency series existed have none.
   */
  dependencies?: DependencyStats[];
  /** The incident around the window (optional: contexts from older hosts and tests have none). */
  timeline?: IncidentTimeline;
}

export interface Incident {
  anomaly: Anomaly;
  context: IncidentContext;
}

const Paragraph = Type.String({ minLength: 1, maxLength: 20_000 });
const Items = Type.Array(Type.String({ minLength: 1, maxLength: 2_000 }), { maxItems: 20 });

/**
 * The five sections of every Helios incident report, as a schema: whatever composed a report (the
 * template, an LLM, a third-party plugin), it is checked against this before it is stored.
 */
export const ReportSectionsSchema = Type.Object(
  {
    executiveSummary: Paragraph,
    rootCauseAnalysis: Paragraph,
    impactAssessment: Paragraph,
    recommendedActions: Type.Object({ immediate: Items, shortTerm: Items, longTerm: Items }, { additionalProperties: false }),
    preventionMeasures: Items,
  },
  { additionalProperties: false },
);

/** What a composing reporter returns: title, severity and the five sections (notes optional). */
export const ReportDraftSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 300 }),
    severity: Type.Union([Type.Literal('critical'), Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')]),
    sections: ReportSectionsSchema,
    notes: Type.Optional(Type.Array(Type.String({ maxLength: 2_000 }), { maxItems: 20 })),
  },
  { $id: 'https://helios.dev/schema/report-draft.v1.json', title: 'Helios incident report draft (v1)', additionalProperties: false },
);

/** The five sections of every Helios incident report. */
export interface ReportSections {
  executiveSummary: string;
  rootCauseAnalysis: string;
  impactAssessment: string;
  recommendedActions: { immediate: string[]; shortTerm: string[]; longTerm: string[] };
  preventionMeasures: string[];
}

// Compile-time check that the interface and the schema agree.
type _SectionsMatch = Static<typeof ReportSectionsSchema> extends ReportSections ? (ReportSections extends Static<typeof ReportSectionsSchema> ? true : never) : never;
export const _reportSectionsMatch: _SectionsMatch = true;

export interface ReportDelivery {
  reporter: string;
  /** `silenced`: a silence of the service held this paging reporter's delivery back (`error` names it). */
  status: 'delivered' | 'failed' | 'silenced';
  location?: string;
  error?: string;
  at: number;
}

export interface IncidentReport {
  id: string;
  anomalyId: string;
  tenant: string;
  service: string;
  createdAt: number;
  title: string;
  severity: Severity;
  /** Which reporter wrote it (e.g. @helios/reporter-template), and notes such as an LLM fallback. */
  composer: string;
  notes: string[];
  sections: ReportSections;
  markdown: string;
  deliveries: ReportDelivery[];
  /**
   * Charts of the incident as standalone SVG documents, one per driving feature (at most four, strongest
   * first: its minutes, its baseline band, the anomalous window shaded): the console shows them as images,
   * the file reporter writes each beside the Markdown, the reports API inlines them in its Markdown.
   * Absent on reports written before charts existed, without a timeline, or for a metric-series anomaly.
   */
  charts?: ReportChart[];
}

export interface ReportChart {
  /** The feature charted, e.g. `error_rate`. */
  feature: string;
  /** What the chart shows, one line (also the image's alt text). */
  title: string;
  svg: string;
}
