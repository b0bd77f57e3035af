import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Detection, FeatureWindow, Incident, IncidentRecord, IncidentReport, Logger, MetricWindow, Registry, ReportSections, Severity } from '@helios/core';
import type { StoreReader } from '@helios/store';
import type { PluginStateStore } from './series-state.js';

/**
 * The plugin API this host provides. Plugins declare the range they were built for (`apiVersion`,
 * a semver range such as `^1.0.0`); the host refuses a plugin whose range excludes this version.
 * Bump the major for any breaking change to the types in this file.
 */
export const PLUGIN_API_VERSION = '1.6.0';

/** What `setup()` receives from the host. */
export interface PluginContext<Options> {
  /** The plugin's options from the config, with its schema's defaults applied and validated. */
  readonly options: Options;
  /** A pino logger bound to `{ plugin: <name> }`; JSON lines on stderr with the host's. */
  readonly logger: Logger;
  /** The process's Prometheus registry; name metrics `helios_<plugin>_...`. */
  readonly metrics: Registry;
  /** Read access to stored events, anomalies and reports. */
  readonly store: StoreReader;
  /** Helios's data folder (`dataDir` in the config). */
  readonly dataDir: string;
  /** The plugin's own state folder, `<dataDir>/plugins/<name>` (created on demand by the plugin). */
  readonly stateDir: string;
  /**
   * Versioned state per series in the store (API 1.4), shared by every detect worker: save what judging a
   * series needs (models, baselines) on a schedule and at shutdown; read it when a series is first seen,
   * which is when this worker was given it (a rebalance, a restart on an empty disk). The source of truth
   * across workers; `stateDir` is this process's disk only.
   */
  readonly state: PluginStateStore;
  /** The host's clock, epoch ms; use it instead of Date.now() so replays and tests control time. */
  now(): number;
}

/** What a detector's `setup()` returns. */
export interface DetectorHooks {
  /**
   * Judge one closed window. Return undefined while the detector has no opinion yet (cold start).
   * Called in window order per series; series are independent.
   */
  detect(window: FeatureWindow): Detection | undefined | Promise<Detection | undefined>;
  /**
   * Judge one closed window of a metric series (a metric name + point attributes of a service; API 1.1).
   * Optional: a detector without it has no opinion on metric series, so detectors written for the request
   * features never see them. Same rules as `detect`: undefined during the cold start, window order per
   * series, series independent (one model per `seriesKey(window)`). Explanations name `MetricFeatureName`s.
   */
  detectMetric?(window: MetricWindow): Detection | undefined | Promise<Detection | undefined>;
  /**
   * Learn from stored history ahead of time (`helios train`; API 1.2). The host replays the stored events
   * through the production window aggregator and hands over the closed windows; the detector builds its
   * models and saves them where `setup` loads them (its `ctx.stateDir`), replacing what was there, so the
   * next start judges at once instead of starting cold. Optional: detectors without it are not trained.
   * Runs in a process of its own, never beside `detect` (stop Helios first).
   */
  train?(history: TrainingHistory): Promise<TrainingResult>;
  /**
   * A request series this worker has not judged yet is about to get its first window (API 1.4): a
   * partition was assigned to it, or it restarted. Restore the series' state from `ctx.state`, or, when
   * there is none, learn from `history()`: windows of the series' recent past built from the store's
   * per-minute rollups (approximate features; see the detection README), so the series is judged at once
   * instead of after a cold start. Optional; `detect` must still work for a series never warmed.
   */
  warm?(series: { tenant: string; service: string }, history: () => Promise<readonly FeatureWindow[]>): Promise<void>;
  /**
   * Each series' state as the detector sees it (learning or active, windows seen, current threshold), for
   * the runtime's gauges and the services API. Optional; must be cheap (called on a metrics scrape).
   */
  seriesStates?(): Iterable<DetectorSeriesState>;
  /** Release resources; must be safe to call twice. */
  shutdown?(): void | Promise<void>;
}

/** One series' state in a detector (`seriesStates`). */
export interface DetectorSeriesState {
  /** `seriesKey(window)` of the series. */
  key: string;
  tenant: string;
  service: string;
  state: 'learning' | 'active';
  windowsSeen: number;
  /** The detector's current threshold in its own units (null while learning). */
  threshold: number | null;
  /** Estimated time until the series' first verdict: 0 when active; omitted when the detector cannot tell (API 1.6). */
  firstVerdictInMs?: number;
}

/** The stored history `train` learns from. */
export interface TrainingHistory {
  /** Closed request-feature windows (`detect`'s input), in window order per series, in pages. */
  windows: AsyncIterable<readonly FeatureWindow[]>;
}

/** What `train` learnt, per series, and where it saved it. */
export interface TrainingResult {
  /** Per series (`tenant/service`): whether it has a usable model now, from how many windows, which model. */
  series: Record<string, { trained: boolean; trainingWindows: number; modelVersion?: string }>;
  /** The file the models went to and its size; absent when there was nothing to save. */
  saved?: { file: string; bytes: number };
  /** Lines worth showing under the summary (e.g. why a series stayed cold). */
  notes?: string[];
}

/** What a composing reporter (template, llm) returns; the host renders the Markdown from the sections. */
export interface ReportDraft {
  title: string;
  /** Usually the anomaly's severity; a composer may raise or lower it with reason. */
  severity: Severity;
  /** The five sections every Helios report has. */
  sections: ReportSections;
  /** Remarks stored with the report (e.g. which facts were missing), not shown in the Markdown. */
  notes?: string[];
}

export interface DeliveryReceipt {
  /** Where the report went (a path, URL, channel). */
  location?: string;
}

/**
 * What a reporter's `resolve` and `acknowledge` receive: the incident as stored (resolved, or acknowledged),
 * and its report when one was written. Both passed through the redaction stage like reports are.
 */
export type IncidentAcknowledgementNotice = IncidentResolutionNotice;

export interface IncidentResolutionNotice {
  incident: IncidentRecord;
  report?: IncidentReport;
}

/** What a reporter's `setup()` returns: `compose`, `deliver`, or both. */
export interface ReporterHooks {
  /** Write a report for an incident. The first composer that succeeds writes the report; others are fallbacks. */
  compose?(incident: Incident): ReportDraft | Promise<ReportDraft>;
  /** Send a finished report somewhere. Every deliverer gets every report. */
  deliver?(report: IncidentReport, incident: Incident): DeliveryReceipt | void | Promise<DeliveryReceipt | void>;
  /**
   * Tell the channel an incident delivered earlier is resolved (by the detector, or by someone through the
   * API) (API 1.5). Optional: a reporter without it is told of openings only. Called once per resolution
   * per process; the resolution record is at-least-once, so it must be idempotent (use the incident id).
   */
  resolve?(notice: IncidentResolutionNotice): DeliveryReceipt | void | Promise<DeliveryReceipt | void>;
  /**
   * Tell the channel someone acknowledged an incident delivered earlier (through the API or the console)
   * (API 1.6): PagerDuty's `acknowledge`, an Alertmanager silence. Optional. Called once per acknowledgement
   * per process while the incident is still acknowledged (not if it was resolved meanwhile); the record is
   * at-least-once, so it must be idempotent (use the incident id).
   */
  acknowledge?(notice: IncidentAcknowledgementNotice): DeliveryReceipt | void | Promise<DeliveryReceipt | void>;
  /**
   * True when this reporter pages people (a webhook, PagerDuty, Alertmanager, Slack) (API 1.5): while a
   * silence covers the service its deliveries and resolutions are held back (recorded as `silenced`);
   * the anomaly and the report are stored all the same. Archiving reporters (file, S3) leave it unset.
   */
  pages?: boolean;
  /** Release resources (flush, close connections); must be safe to call twice. */
  shutdown?(): void | Promise<void>;
}

interface PluginDefinitionBase<S extends TSchema, Hooks> {
  /** Package name, e.g. `@acme/helios-detector-foo`; appears in logs, metrics and errors. */
  name: string;
  /** The plugin's own version (semver), shown by `helios plugins list`; usually the package version. */
  version: string;
  /** Semver range of the plugin API this plugin supports, e.g. `^1.0.0`. */
  apiVersion: string;
  /** One line on what the plugin does. */
  description?: string;
  /** TypeBox schema of the options, with defaults. Unknown keys are rejected when the schema says so. */
  configSchema?: S;
  /**
   * Called once at start with the validated options; returns the hooks. Throwing (or exceeding
   * `plugins.timeoutMs`) stops Helios from starting, so check connections and folders here, not later.
   */
  setup(ctx: PluginContext<Static<S>>): Hooks | Promise<Hooks>;
}

export interface DetectorPlugin<S extends TSchema = TObject> extends PluginDefinitionBase<S, DetectorHooks> {
  /** Where the plugin goes in the config: `plugins.detectors`. */
  kind: 'detector';
}

export interface ReporterPlugin<S extends TSchema = TObject> extends PluginDefinitionBase<S, ReporterHooks> {
  /** Where the plugin goes in the config: `plugins.reporters`. */
  kind: 'reporter';
}

export type HeliosPlugin = DetectorPlugin<TSchema> | ReporterPlugin<TSchema>;
export type PluginKind = HeliosPlugin['kind'];

/** Declare a plugin with full typing of its options; returns the definition unchanged. */
export function definePlugin<S extends TSchema>(plugin: DetectorPlugin<S>): DetectorPlugin<S>;
export function definePlugin<S extends TSchema>(plugin: ReporterPlugin<S>): ReporterPlugin<S>;
export function definePlugin(plugin: HeliosPlugin): HeliosPlugin {
  return plugin;
}
