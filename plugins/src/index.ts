export {
  PLUGIN_API_VERSION, definePlugin,
  type PluginContext, type DetectorHooks, type TrainingHistory, type DetectorSeriesState, type TrainingResult, type ReporterHooks, type ReportDraft, type DeliveryReceipt, type IncidentResolutionNotice, type IncidentAcknowledgementNotice,
  type DetectorPlugin, type ReporterPlugin, type HeliosPlugin, type PluginKind,
} from './define.js';
export { loadPlugin, loadPlugins, assertPlugin, checkPluginSpec, resolvePluginOptions, resolvePluginSource, packageFolderEntry, type PluginSpecCheck, type LoadedPlugin, type PluginHostOptions } from './loader.js';
export { createPluginStateStore, createMemoryDetectorState, type PluginStateStore, type SeriesState, type SeriesStatePut } from './series-state.js';
export { PluginGuard, pluginGuardMetrics, type PluginHealth } from './guard.js';
export { reportUrl } from './report-url.js';
export { deliverWithRetry, deliveryRetryOptions, postJson, requestJson, retryAfterMs, type AttemptOutcome, type DeliveryRetryPolicy, type JsonPostOptions } from './delivery-retry.js';
export { renderReportMarkdown, reportFileName, withChartImages } from './report-markdown.js';
export { Type, type Static } from '@sinclair/typebox';
export { renderIncidentChart } from './report-chart.js';
export { CHARTABLE_FEATURES, byDeviation, formatDuration, incidentSpan, robustDeviation, type ChartableFeature, type IncidentSpan } from './report-timeline.js';
