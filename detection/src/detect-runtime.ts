import { hostname } from 'node:os';
import { Counter, Gauge } from 'prom-client';
import {
  FEATURE_NAMES, Topics, busKey, defaultConfig, serviceLabelGuard, metricSeriesName, newEventId, seriesKey,
  type Anomaly, type Bus, type Detection, type FeatureName, type FeatureWindow, type HeliosConfig, type HeliosEvent, type Logger, type MetricSeries, type MetricWindow,
  type Registry, type SeriesWindow, type ServiceDetectionStatus, type Severity, type Subscription, type TelemetryGapRecord, type IncidentResolution, type AnomalyTopicRecord, type BusRecord, streamName,
} from '@helios/core';
import type { DetectorHooks, DetectorSeriesState, LoadedPlugin } from '@helios/plugins';
import type { ClosedMetricWindow } from './metric-windows.js';
import type { DetectorStateStore, IncidentReader, Store } from '@helios/store';
import { createIncidentStateKeeper, type TrackedSeries } from './incident-state.js';
import { createSeriesStatusSaver, serviceStatuses } from './series-status.js';
import { rollupWindows } from './rollup-windows.js';
import { ServiceIncidents } from './service-incidents.js';
import { WindowAggregator, type ClosedWindow } from './windows.js';

const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
/** Wall time per event batch spent warming series new to the worker (see `warmQueued`). */
const WARM_BUDGET_MS = 1000;

export interface DetectRuntimeOptions {
  bus: Bus;
  detectors: ReadonlyArray<LoadedPlugin<DetectorHooks>>;
  detection: HeliosConfig['detection'];
  logger: Logger;
  metrics: Registry;
  /** Service-label cardinality (the `metrics` config section); defaults when absent. */
  metricsConfig?: HeliosConfig['metrics'];
  now?: () => number;
  /**
   * Consumer group for `Topics.telemetryGaps`. Every detect process must see every gap (each holds the
   * windows of other series), so the default is a group of this process's own (`helios-detect-gaps.<host>.<pid>`),
   * which reads the topic from its start: gaps older than every open window are dropped at the next close.
   */
  gapsGroup?: string;
  /**
   * Where series state lives across workers: each series' incident state is saved there and read when the
   * series is first seen; a series new to this worker has its first window filled from the stored events
   * (so it is judged within a hop, not a window length) and its detectors warmed from the stored rollups.
   * Without it state lives and dies with the process. Its incident table says whether an incident is still
   * open (incident-state.ts: one source of truth per fact).
   */
  store?: Pick<Store, 'scanEvents' | 'rollups'> & DetectorStateStore & Pick<IncidentReader, 'getIncident' | 'unresolvedIncidents'>;
}

export interface DetectRuntime extends Subscription {
  /** Close every open window now (e.g. at the end of a replay) and judge them. */
  flush(): Promise<void>;
  /**
   * Telemetry in [from, to) (event time, epoch ms) was lost, e.g. the gateway refused events: windows
   * overlapping it are not judged. `tenant` limits the gap to one tenant.
   */
  markGap(from: number, to: number, tenant?: string): void;
  /** Windows judged, request and metric series alike. */
  readonly windowsEvaluated: number;
  /** Of those, windows of metric series. */
  readonly metricWindowsEvaluated: number;
  /** Each detector's series states (learning / active, windows seen, threshold), optionally of one service. */
  seriesStates(tenant?: string, service?: string): Array<DetectorSeriesState & { detector: string }>;
  /** The same per service (what GET /api/v1/services shows), as saved to the store every `stateSaveIntervalMs`. */
  serviceStates(query?: { tenant?: string; service?: string }): ServiceDetectionStatus[];
}

/** Severity from the error rate and how far the score passed the threshold. */
/**
 * Severity from user-visible impact in the window, measured against the baseline in the detector's
 * explanation: the share of failing requests, how many times slower the tail is, how much traffic is
 * missing. Detector scores are not comparable across detectors, so they only separate medium from low.
 */
export function severityOf(detection: Detection, window: FeatureWindow): Severity {
  const f = window.features;
  const baseline = (name: FeatureName): number | undefined => detection.explanation.find((e) => e.feature === name)?.baseline;
  const factor = (name: FeatureName): number => {
    const base = baseline(name);
    return base !== undefined && base > 0 ? f[name] / base : 1;
  };
  const latencyFactor = Math.max(factor('p95_latency'), factor('p99_latency'));
  const baseTraffic = baseline('total_events');
  const trafficLost = baseTraffic !== undefined && baseTraffic > 0 ? 1 - f.total_events / baseTraffic : 0;
  if (f.error_rate >= 0.25 || latencyFactor >= 10 || trafficLost >= 0.9) return 'critical';
  if (f.error_rate >= 0.05 || latencyFactor >= 3 || trafficLost >= 0.5) return 'high';
  return detection.score >= 1.5 * detection.threshold ? 'medium' : 'low';
}

/**
 * Severity of an anomaly in a metric series. What the metric means (a queue, a temperature, a budget) is
 * not known, so no metric alone is `critical`: `high` when its mean or its latest value (a fresh level
 * shift shows there first) moved to at least 3 times or at most a third of its baseline, or away from a
 * baseline of 0; otherwise medium or low by the score.
 */
export function metricSeverityOf(detection: Detection, window: MetricWindow): Severity {
  if (window.features.points > 0) {
    for (const feature of ['mean', 'last'] as const) {
      const base = detection.explanation.find((e) => e.feature === feature)?.baseline;
      const value = window.features[feature];
      if (base !== undefined && (base === 0 ? value !== 0 : value / base >= 3 || value / base <= 1 / 3)) return 'high';
    }
  }
  return detection.score >= 1.5 * detection.threshold ? 'medium' : 'low';
}

/** One detector's verdict on a window. */
export interface Verdict {
  detector: string;
  detection: Detection;
}

export type VoteRule = HeliosConfig['detection']['vote'];

/** Votes needed to call a window anomalous when `voters` detectors had an opinion. */
export function votesNeeded(rule: VoteRule, voters: number): number {
  return rule === 'all' ? voters : rule === 'majority' ? Math.floor(voters / 2) + 1 : 1;
}

export interface TrackerStep {
  /** The window is anomalous by the vote. */
  anomalous: boolean;
  /** Set when this window opens an incident: the strongest anomalous vote, which speaks for it. */
  opened?: { lead: Verdict; votes: Verdict[] };
  /** This window resolved the series' open incident. */
  resolved: boolean;
}

export interface IncidentTracker {
  /** Feed one window's verdicts (in window order per series); undefined when no detector had an opinion. */
  observe(window: SeriesWindow, verdicts: readonly Verdict[]): TrackerStep | undefined;
  /** Whether the series (the service's requests, one of its dependency or log streams, or one of its metric series) has an open incident. */
  isOpen(tenant: string, service: string, metric?: MetricSeries, stream?: SeriesWindow['stream']): boolean;
  /** A copy of the series' state (by `seriesKey`), to save; undefined before its first judged window. */
  snapshot(key: string): TrackedSeries | undefined;
  /** Take over a series' saved state (another worker judged it before). */
  restore(key: string, state: TrackedSeries): void;
}

type IncidentState = TrackedSeries;

/**
 * Alert hygiene, apart from any bus or clock so the runtime and `helios eval` share it: `confirmWindows`
 * anomalous windows in a row open an incident, or one window whose strongest vote scores `immediateRatio`
 * times its threshold; while it is open further anomalous windows raise nothing;
 * `resolveAfterWindows` normal windows in a row close it.
 */
export function createIncidentTracker(detection: Pick<HeliosConfig['detection'], 'vote' | 'confirmWindows' | 'resolveAfterWindows' | 'immediateRatio'>): IncidentTracker {
  const incidents = new Map<string, IncidentState>();
  return {
    isOpen: (tenant, service, metric, stream) => incidents.get(seriesKey({ tenant, service, metric, stream }))?.open ?? false,
    snapshot(key) {
      const state = incidents.get(key);
      return state === undefined ? undefined : { ...state };
    },
    restore(key, state) {
      incidents.set(key, { ...state });
    },
    observe(window, verdicts) {
      if (verdicts.length === 0) return undefined;
      const votes = verdicts.filter((v) => v.detection.anomalous);
      const key = seriesKey(window);
      let state = incidents.get(key);
      if (state === undefined) incidents.set(key, (state = { open: false, normalStreak: 0, anomalousStreak: 0 }));
      if (votes.length < votesNeeded(detection.vote, verdicts.length)) {
        state.anomalousStreak = 0;
        const resolved = state.open && ++state.normalStreak >= detection.resolveAfterWindows;
        if (resolved) state.open = false;
        return { anomalous: false, resolved };
      }
      state.normalStreak = 0;
      const strongest = votes.reduce((a, v) => Math.max(a, v.detection.score / Math.max(Math.abs(v.detection.threshold), 1e-12)), 0);
      const immediate = detection.immediateRatio > 0 && strongest >= detection.immediateRatio;
      if (state.open || (++state.anomalousStreak < detection.confirmWindows && !immediate)) return { anomalous: true, resolved: false };
      state.open = true;
      const lead = votes.reduce((a, b) => (b.detection.score - b.detection.threshold > a.detection.score - a.detection.threshold ? b : a));
      return { anomalous: true, resolved: false, opened: { lead, votes } };
    },
  };
}

/**
 * The detector role: events -> sliding windows per tenant+service (and per metric series of a service) ->
 * every detector plugin -> one anomaly per incident on the anomalies topic, and its resolution (an
 * `IncidentResolution`, same topic and key) when the series is back to normal (alert hygiene in
 * `createIncidentTracker`, per series). Metric windows go to detectors with `detectMetric` only. Windows
 * that overlap lost telemetry (a watermark gap, `markGap`, or a `TelemetryGapRecord` from a gateway in
 * another process) are not judged: neither alerted on nor learned from.
 */
export function startDetectRuntime(options: DetectRuntimeOptions): DetectRuntime {
  const { bus, detectors, detection, logger } = options;
  const now = options.now ?? Date.now;
  const windows = new WindowAggregator(detection);
  const tracker = createIncidentTracker(detection);
  /** Anomalies and resolutions decided but not yet taken by the bus, in decision order. */
  const outbox: Array<BusRecord<AnomalyTopicRecord>> = [];
  const serviceIncidents = new ServiceIncidents();
  /** Series key -> the id of its open incident (its opening anomaly), for the resolution record; saved with the tracker's state. */
  const openIncidents = new Map<string, string>();
  const incidentState = createIncidentStateKeeper({
    store: options.store, incidents: options.store, tracker, openIncidents, logger, intervalMs: detection.stateSaveIntervalMs,
    onClosedElsewhere: (key) => serviceIncidents.forget(key),
  });
  /** Request series (tenant + service) this worker has taken on: filled from the store and warmed once. */
  const adopted = new Set<string>();
  /** Series waiting for their detectors' `warm`, oldest first: warming takes about half a second a series. */
  const warmQueue = new Map<string, { tenant: string; service: string; historyTo: number }>();
  const metricDetectors = detectors.filter((d) => typeof d.hooks.detectMetric === 'function');
  const pending: Array<ClosedWindow | ClosedMetricWindow> = [];
  let windowsEvaluated = 0;
  let metricWindowsEvaluated = 0;
  let overflowCounted = 0;
  let lastEventWallTime = now();
  let processing: Promise<void> = Promise.resolve();

  const scoreGauge = new Gauge({ name: 'helios_anomaly_detection_score', help: 'Latest anomaly score per series and detector', labelNames: ['service', 'detector'], registers: [options.metrics] });
  const windowsCounter = new Counter({ name: 'helios_detection_windows_total', help: 'Feature windows evaluated', labelNames: ['service'], registers: [options.metrics] });
  const incompleteCounter = new Counter({ name: 'helios_detection_windows_incomplete_total', help: 'Feature windows not judged because telemetry in them was lost', labelNames: ['service'], registers: [options.metrics] });
  const anomaliesCounter = new Counter({ name: 'helios_anomalies_total', help: 'Incidents opened (deduplicated anomalies)', labelNames: ['service', 'severity'], registers: [options.metrics] });
  const failures = new Counter({ name: 'helios_detection_failures_total', help: 'Windows a detector could not judge (error or timeout)', labelNames: ['detector'], registers: [options.metrics] });
  const overflow = new Counter({ name: 'helios_detection_metric_points_overflow_total', help: 'Metric data points not windowed because their service already had detection.maxMetricSeries metric series', registers: [options.metrics] });
  // Service labels come from events, i.e. from anyone who can send one: bounded per tenant, and expired
  // when idle, by the registry's guard (shared with the gateway in an all-in-one process).
  const metricsConfig = options.metricsConfig ?? defaultConfig().metrics;
  const serviceLabels = serviceLabelGuard({ registry: options.metrics, maxServicesPerTenant: metricsConfig.maxServicesPerTenant, idleMs: metricsConfig.seriesIdleMs, ...(options.now === undefined ? {} : { now: options.now }) });
  serviceLabels.onExpired((service) => {
    for (const d of options.detectors) scoreGauge.remove({ service, detector: d.name });
    windowsCounter.remove({ service });
    incompleteCounter.remove({ service });
    for (const severity of SEVERITIES) anomaliesCounter.remove({ service, severity });
  });
  // Series states come from the detectors at scrape time: no per-series labels (as many as the series).
  function seriesStates(tenant?: string, service?: string): Array<DetectorSeriesState & { detector: string }> {
    const out: Array<DetectorSeriesState & { detector: string }> = [];
    for (const d of detectors) {
      if (typeof d.hooks.seriesStates !== 'function') continue;
      for (const s of d.hooks.seriesStates()) if ((tenant === undefined || s.tenant === tenant) && (service === undefined || s.service === service)) out.push({ ...s, detector: d.name });
    }
    return out;
  }
  new Gauge({
    name: 'helios_detector_series_state', help: 'Series per detector and state (learning: no verdicts yet; active: judged)', labelNames: ['detector', 'state'], registers: [options.metrics],
    collect() {
      this.reset();
      for (const s of seriesStates()) this.inc({ detector: s.detector, state: s.state });
    },
  });
  new Gauge({
    name: 'helios_series_windows_seen', help: 'Windows seen by a detector, summed over its series (divide by helios_detector_series_state for the mean)', labelNames: ['detector'], registers: [options.metrics],
    collect() {
      this.reset();
      for (const s of seriesStates()) this.inc({ detector: s.detector }, s.windowsSeen);
    },
  });
  new Gauge({
    name: 'helios_detector_first_verdict_seconds', help: 'Longest estimated time until a learning series gets its first verdict, per detector (0 when every series is active)', labelNames: ['detector'], registers: [options.metrics],
    collect() {
      this.reset();
      const longest = new Map<string, number>();
      for (const s of seriesStates()) longest.set(s.detector, Math.max(longest.get(s.detector) ?? 0, s.state === 'active' ? 0 : (s.firstVerdictInMs ?? 0) / 1000));
      for (const [detector, seconds] of longest) this.set({ detector }, seconds);
    },
  });
  const seriesStatusSaver = createSeriesStatusSaver({ store: options.store, states: () => seriesStates(), now, logger, intervalMs: detection.stateSaveIntervalMs });
  const gapsReceived = new Counter({ name: 'helios_detection_gaps_received_total', help: 'Telemetry gap records from other processes applied to the windows', labelNames: ['source'], registers: [options.metrics] });

  async function verdictsOn(window: ClosedWindow | ClosedMetricWindow): Promise<Verdict[]> {
    const verdicts: Verdict[] = [];
    if (window.metric === undefined) {
      for (const d of detectors) {
        const result = await d.guard.call('detect', () => d.hooks.detect(window));
        if (!result.ok) failures.inc({ detector: d.name });
        else if (result.value !== undefined) {
          verdicts.push({ detector: d.name, detection: result.value });
          scoreGauge.set({ service: serviceLabels.label(window.tenant, window.service), detector: d.name }, result.value.score);
        }
      }
    } else {
      // No score gauge per metric series: its labels would be as many as the series.
      for (const d of metricDetectors) {
        const result = await d.guard.call('detectMetric', () => d.hooks.detectMetric!(window));
        if (!result.ok) failures.inc({ detector: d.name });
        else if (result.value !== undefined) verdicts.push({ detector: d.name, detection: result.value });
      }
    }
    return verdicts;
  }

  async function judge(window: ClosedWindow | ClosedMetricWindow): Promise<void> {
    if (window.incomplete === true) {
      incompleteCounter.inc({ service: serviceLabels.label(window.tenant, window.service) });
      return;
    }
    await incidentState.load(window);
    if (incidentState.judgedBefore(window)) return;
    const verdicts = await verdictsOn(window);
    windowsEvaluated++;
    if (window.metric !== undefined) metricWindowsEvaluated++;
    windowsCounter.inc({ service: serviceLabels.label(window.tenant, window.service) });
    const step = tracker.observe(window, verdicts);
    const series = window.metric !== undefined ? { metric: metricSeriesName(window.metric) } : window.stream !== undefined ? { stream: streamName(window.stream) } : {};
    if (step?.resolved === true) publishResolution(window, series);
    await incidentState.changed(window, step?.resolved === true);
    if (!serviceIncidents.raise(window, step) || step?.opened === undefined) return;
    const { lead, votes } = step.opened;
    const anomaly: Anomaly = {
      id: newEventId(), tenant: window.tenant, service: window.service, windowStart: window.start, windowEnd: window.end, detectedAt: now(),
      detector: votes.map((v) => v.detector).join('+'),
      severity: window.metric === undefined ? severityOf(lead.detection, window) : metricSeverityOf(lead.detection, window),
      score: lead.detection.score, threshold: lead.detection.threshold, features: window.features,
      explanation: lead.detection.explanation, modelVersion: lead.detection.modelVersion,
      ...(window.metric === undefined ? {} : { metric: window.metric }),
      ...(window.metric === undefined && window.stream !== undefined ? { stream: window.stream } : {}),
    };
    anomaliesCounter.inc({ service: serviceLabels.label(window.tenant, window.service), severity: anomaly.severity });
    logger.warn({ tenant: anomaly.tenant, service: anomaly.service, ...series, score: anomaly.score, threshold: anomaly.threshold, severity: anomaly.severity, top: anomaly.explanation[0]?.feature }, 'anomaly detected');
    // Saved before it goes out: a worker taking the series over from here on knows the incident is open.
    openIncidents.set(seriesKey(window), anomaly.id);
    await incidentState.changed(window, true);
    outbox.push({ key: busKey(anomaly), value: anomaly });
  }

  /** The series' incident resolved: its resolution follows its anomaly on the same topic and key (same order). */
  function publishResolution(window: ClosedWindow | ClosedMetricWindow, series: { metric?: string; stream?: string }): void {
    const key = seriesKey(window);
    const incidentId = openIncidents.get(key);
    logger.info({ tenant: window.tenant, service: window.service, ...series, at: window.end, incident: incidentId }, 'incident resolved: windows back to normal');
    if (incidentId === undefined) return; // opened before this process started: nothing here knows its id
    const resolution: IncidentResolution = {
      kind: 'incident-resolved', incidentId, tenant: window.tenant, service: window.service, resolvedAt: now(), by: 'detector',
      ...(window.metric === undefined ? {} : { metric: window.metric }),
    };
    outbox.push({ key: busKey(resolution), value: resolution });
    openIncidents.delete(key);
  }

  /**
   * Openings and resolutions in the order the windows produced them; one the bus refused stays first in line
   * and is published again next time. A window is judged once (the tracker and the detectors' models move on),
   * so what it decided must not be lost with a failed publish: it waits here instead.
   */
  async function publishOutbox(): Promise<void> {
    while (outbox.length > 0) {
      await bus.publish<AnomalyTopicRecord>(Topics.anomalies, [outbox[0]!]);
      outbox.shift();
    }
  }

  /** Windows are judged in order; what they decided is published before the next window is judged. */
  function drainPending(): Promise<void> {
    processing = processing.then(async () => {
      try {
        await publishOutbox();
        while (pending.length > 0) {
          await judge(pending.shift()!);
          await publishOutbox();
        }
      } catch (err) {
        logger.error({ err, unpublished: outbox.length }, 'could not publish an anomaly or resolution; will retry');
      }
    });
    return processing;
  }

  /** Closed windows of both kinds into `pending`, request windows first (order per series is kept). */
  function closeInto(time: number | undefined): number {
    const metricWindows: ClosedMetricWindow[] = [];
    const closed = time === undefined ? windows.closeReady(metricWindows) : windows.closeUpTo(time, metricWindows);
    pending.push(...closed, ...metricWindows);
    const overflowNow = windows.metricOverflowPoints;
    if (overflowNow > overflowCounted) overflow.inc(overflowNow - overflowCounted);
    overflowCounted = overflowNow;
    return closed.length + metricWindows.length;
  }
  /**
   * Services this worker sees for the first time (it was given their partition, or it restarted): the part
   * of their first windows before their first live event comes from the stored events, request and metric
   * series alike (so each is judged at the next hop, not after a whole window, and a metric series has its
   * cadence and its counters' references at once), and detectors with `warm` restore the request series'
   * state or learn from its stored rollups. Stored events of this batch are skipped: they are added live.
   * Needs `options.store`; without it series start as they always did.
   */
  async function adoptNewSeries(events: readonly HeliosEvent[], wall: number): Promise<void> {
    const store = options.store;
    if (store === undefined) return;
    const fresh = new Map<string, { tenant: string; service: string; first: number; ids: Set<string>; requests: boolean }>();
    for (const e of events) {
      const key = seriesKey(e);
      if (adopted.has(key)) continue;
      const entry = fresh.get(key);
      if (entry === undefined) fresh.set(key, { tenant: e.tenant, service: e.service, first: e.timestamp, ids: new Set([e.id]), requests: e.kind !== 'metric' });
      else {
        entry.first = Math.min(entry.first, e.timestamp);
        entry.ids.add(e.id);
        if (e.kind !== 'metric') entry.requests = true;
      }
    }
    const { windowMs, hopMs } = detection;
    for (const [key, s] of fresh) {
      adopted.add(key);
      let oldest = s.first;
      try {
        const from = Math.floor(s.first / hopMs) * hopMs - windowMs + hopMs;
        for await (const page of store.scanEvents({ tenant: s.tenant, service: s.service, from, to: s.first })) {
          for (const e of page) {
            if (s.ids.has(e.id)) continue;
            windows.add(e, wall);
            oldest = Math.min(oldest, e.timestamp);
          }
        }
      } catch (err) {
        logger.warn({ err, tenant: s.tenant, service: s.service }, 'could not read the stored events of a series new to this worker; its first window waits for live events');
      }
      // Rollups are of requests: a service that only sends metrics has nothing to warm from.
      if (!s.requests) continue;
      // History ends where the series' first live window begins to slide: one hop before its end.
      warmQueue.set(key, { tenant: s.tenant, service: s.service, historyTo: Math.floor(oldest / hopMs) * hopMs + windowMs - hopMs });
    }
    await warmQueued();
  }

  /**
   * Warm queued series for at most WARM_BUDGET_MS per batch, so thousands of series new at once (a first
   * deployment) do not hold the consumer past its session timeout; the rest wait for the next batches. A
   * series whose first window is judged before its turn starts cold in its detectors, which then skip
   * `warm` (they already hold the series).
   */
  async function warmQueued(): Promise<void> {
    const store = options.store;
    if (store === undefined) return;
    const started = Date.now();
    for (const [key, s] of warmQueue) {
      if (Date.now() - started >= WARM_BUDGET_MS) return;
      warmQueue.delete(key);
      const { windowMs } = detection;
      let history: Promise<FeatureWindow[]> | undefined;
      const historyOf = (): Promise<FeatureWindow[]> => (history ??= (async () => {
        if (detection.warmStartMs === 0) return [];
        const minutes = await store.rollups({ tenant: s.tenant, service: s.service, from: s.historyTo - detection.warmStartMs - windowMs, to: s.historyTo });
        return rollupWindows(minutes, detection, { tenant: s.tenant, service: s.service, from: s.historyTo - detection.warmStartMs, to: s.historyTo });
      })());
      for (const d of detectors) {
        if (typeof d.hooks.warm !== 'function') continue;
        const result = await d.guard.call('warm', () => d.hooks.warm!({ tenant: s.tenant, service: s.service }, historyOf));
        if (!result.ok) failures.inc({ detector: d.name });
      }
    }
  }


  const subscription = bus.subscribe<HeliosEvent>(Topics.events, 'helios-detect', async (records) => {
    const wall = now();
    lastEventWallTime = wall;
    await adoptNewSeries(records.map((r) => r.value), wall);
    for (const r of records) windows.add(r.value, wall);
    closeInto(undefined);
    await drainPending();
  }, { maxBatch: 5000 });

  // Gaps seen by gateways in other processes. Applied as they come: a gap only marks windows not closed yet.
  const gapsSubscription = bus.subscribe<TelemetryGapRecord>(Topics.telemetryGaps, options.gapsGroup ?? `helios-detect-gaps.${hostname()}.${process.pid}`, async (records) => {
    for (const { value: gap } of records) {
      if (typeof gap?.from !== 'number' || typeof gap.to !== 'number') {
        logger.warn({ gap }, 'ignoring a malformed telemetry gap record');
        continue;
      }
      windows.markGap(typeof gap.tenant === 'string' ? { from: gap.from, to: gap.to, tenant: gap.tenant } : { from: gap.from, to: gap.to });
      gapsReceived.inc({ source: typeof gap.source === 'string' ? gap.source : 'unknown' });
      logger.info({ from: gap.from, to: gap.to, tenant: gap.tenant, refusals: gap.refusals, source: gap.source }, 'telemetry gap: windows overlapping it will not be judged');
    }
  });

  // Without new events the watermark stands still; after a quiet spell close what is complete.
  const idleTimer = detection.idleFlushMs > 0
    ? setInterval(() => {
      if (now() - lastEventWallTime < detection.idleFlushMs) return;
      if (closeInto(windows.watermark) > 0 || pending.length > 0) void drainPending();
    }, Math.max(250, Math.min(detection.idleFlushMs, 5000)))
    : undefined;
  idleTimer?.unref();

  let closing: Promise<void> | undefined;
  return {
    get windowsEvaluated() {
      return windowsEvaluated;
    },
    get metricWindowsEvaluated() {
      return metricWindowsEvaluated;
    },
    seriesStates,
    serviceStates: (q = {}) => serviceStatuses(seriesStates(q.tenant, q.service), now()),
    markGap(from, to, tenant) {
      windows.markGap(tenant === undefined ? { from, to } : { from, to, tenant });
    },
    async flush() {
      closeInto(windows.watermark);
      await drainPending();
    },
    close() {
      closing ??= (async () => {
        if (idleTimer !== undefined) clearInterval(idleTimer);
        await subscription.close();
        await gapsSubscription.close();
        await processing;
        await incidentState.close();
        await seriesStatusSaver.close();
      })();
      return closing;
    },
  };
}

export { FEATURE_NAMES };
