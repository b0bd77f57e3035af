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
export { renderReportMarkdown, reportFileName } from './report-markdown.js';
/** Kept here for reporters; one implementation, in core, shared with the reports API. */
export { withChartImages } from '@helios/core';
export { Type, type Static } from '@sinclair/typebox';
export { renderIncidentCharts } from './report-chart.js';
export { CHARTABLE_FEATURES, byDeviation, drivingFeatures, formatDuration, incidentSpan, robustDeviation, type ChartableFeature, type FeatureSeries, type IncidentSpan } from './report-timeline.js';
