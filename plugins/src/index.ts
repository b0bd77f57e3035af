export {
  PLUGIN_API_VERSION, definePlugin,
  type PluginContext, type DetectorHooks, type ReporterHooks, type ReportDraft, type DeliveryReceipt,
  type DetectorPlugin, type ReporterPlugin, type HeliosPlugin, type PluginKind,
} from './define.js';
export { loadPlugin, loadPlugins, assertPlugin, checkPluginSpec, resolvePluginOptions, resolvePluginSource, packageFolderEntry, type PluginSpecCheck, type LoadedPlugin, type PluginHostOptions } from './loader.js';
export { PluginGuard, type PluginHealth } from './guard.js';
export { WindowAggregator, percentile, type WindowOptions, type ClosedWindow, type TelemetryGap } from './windows.js';
export { metricSeriesOf, type ClosedMetricWindow } from './metric-windows.js';
export { createGapPublisher, type GapPublisher, type GapPublisherOptions } from './telemetry-gaps.js';
export { startDetectRuntime, severityOf, metricSeverityOf, createIncidentTracker, votesNeeded, type DetectRuntime, type DetectRuntimeOptions, type IncidentTracker, type TrackerStep, type Verdict, type VoteRule } from './detect-runtime.js';
export { startReportRuntime, type ReportRuntime, type ReportRuntimeOptions } from './report-runtime.js';
export { renderReportMarkdown, reportFileName } from './report-markdown.js';
export {
  robustBaseline, robustZScores, judgedValue, judgedVector, unjudgedValue, tailSupported, samplingNoise, medianOfSorted, upperQuantileOfSorted,
  TAIL_SHARE, type RobustBaseline,
} from './robust-stats.js';
export { Type, type Static } from '@sinclair/typebox';
export { metricVector, metricUnjudged, metricBaseline, metricZScores, metricExplanation } from './metric-stats.js';
