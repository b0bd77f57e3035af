export {
  PLUGIN_API_VERSION, definePlugin,
  type PluginContext, type DetectorHooks, type ReporterHooks, type ReportDraft, type DeliveryReceipt, type IncidentResolutionNotice,
  type DetectorPlugin, type ReporterPlugin, type HeliosPlugin, type PluginKind,
} from './define.js';
export { loadPlugin, loadPlugins, assertPlugin, resolvePluginOptions, type LoadedPlugin, type PluginHostOptions } from './loader.js';
export { PluginGuard, pluginGuardMetrics, type PluginHealth } from './guard.js';
export { WindowAggregator, percentile, type WindowOptions, type ClosedWindow, type TelemetryGap } from './windows.js';
export { metricSeriesOf, type ClosedMetricWindow } from './metric-windows.js';
export { createGapPublisher, type GapPublisher, type GapPublisherOptions } from './telemetry-gaps.js';
export { startDetectRuntime, severityOf, metricSeverityOf, createIncidentTracker, votesNeeded, type DetectRuntime, type DetectRuntimeOptions, type IncidentTracker, type TrackerStep, type Verdict, type VoteRule } from './detect-runtime.js';
export { createIncidentLifecycle, type IncidentLifecycle, type IncidentLifecycleOptions, type OpenedIncident } from './incident-lifecycle.js';
export { reportUrl } from './report-url.js';
export { deliverWithRetry, deliveryRetryOptions, postJson, retryAfterMs, type AttemptOutcome, type DeliveryRetryPolicy, type JsonPostOptions } from './delivery-retry.js';
export { startReportRuntime, type ReportRuntime, type ReportRuntimeOptions } from './report-runtime.js';
export { renderReportMarkdown, reportFileName } from './report-markdown.js';
export {
  robustBaseline, robustZScores, judgedValue, judgedVector, unjudgedValue, tailSupported, samplingNoise, medianOfSorted, upperQuantileOfSorted,
  TAIL_SHARE, type RobustBaseline,
} from './robust-stats.js';
export { Type, type Static } from '@sinclair/typebox';
export { metricVector, metricUnjudged, metricBaseline, metricZScores, metricExplanation } from './metric-stats.js';
