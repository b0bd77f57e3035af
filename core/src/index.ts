export { ErrorCodes, HeliosError, isHeliosError, type ErrorCode } from './errors.js';
export {
  EVENT_SCHEMA_VERSION, LEVELS, KINDS, ERROR_LEVELS, EventInputSchema, HeliosEventSchema, jsonSchemas,
  type Level, type Kind, type AttributeValue, type EventInput, type HeliosEvent,
} from './event/schema.js';
export {
  compileValidator, normalizeEventInput, normalizeEventBatch, levelFromSeverityNumber, parseLevel, newEventId, EventIdSequence,
  type SchemaValidator, type NormalizeOptions,
} from './event/validate.js';
export {
  makeStorable, MIN_EVENT_TIMESTAMP_MS, MAX_EVENT_TIMESTAMP_MS, MAX_SAMPLE_RATE, MAX_LATENCY_MS, MAX_ATTRIBUTE_KEY_LENGTH,
} from './event/storable.js';
export { encodeHeliosEvent, encodeJsonBatch } from './event/encode.js';
export { parseEventsBody, type EventsBodyKind } from './event/parse-body.js';
export { HeliosConfigSchema, loadConfig, resolveConfig, defaultConfig, type HeliosConfig, type PluginSpec, type LoadedConfig, type ConfigSources } from './config.js';
export { Topics, busKey, eventRecords, type EventRequestBatch, type TelemetryGapRecord, type Bus, type BusRecord, type BusHandler, type Subscription, type SubscribeOptions } from './bus.js';
export { createLogger, formatLogLine, resolveLogFormat, silentLogger, type Logger, type LogFormat, type LoggerOptions } from './logger.js';
export { createMetricsRegistry, mergedMetricsText, Registry, serviceLabelGuard, OVERFLOW_SERVICE_LABEL, type ServiceLabelGuard, type ServiceLabelGuardOptions } from './metrics.js';
export {
  FEATURE_NAMES, METRIC_FEATURE_NAMES, ReportSectionsSchema, ReportDraftSchema, metricSeriesName, seriesKey, featureSeriesKey, streamName,
  type FeatureStream, type DependencyStats, type DependencyTotals,
  type MetricFeatureName, type MetricFeatures, type MetricFreshPoints, type MetricSeries, type MetricWindow, type SeriesWindow,
  type FeatureName, type Features, type FeatureWindow, type FeatureExplanation, type Detection, type Severity, type Anomaly,
  type EndpointStats, type ErrorStats, type WindowTotals, type IncidentContext, type Incident, type ReportSections,
  type ReportDelivery, type IncidentReport, type ReportChart, type MinuteTotals, type AnomalyWindow, type IncidentTimeline,
} from './incident.js';
export { chartDataUri, withChartImages } from './report-images.js';
export { eventRole, peerOf, SPAN_KIND_ATTRIBUTE, PARENT_SPAN_ATTRIBUTE, PEER_ATTRIBUTE, PEER_TYPE_ATTRIBUTE, type EventRole } from './event/role.js';
export { createRandom, seededRandom, type SeededRandom } from './seeded-random.js';
export { attemptOf, backoffDelayMs, retry, sleep, type AttemptOutcome, type BackoffPolicy, type RetryOptions } from './retry.js';
export {
  INCIDENT_STATUSES, isIncidentResolution, isIncidentAcknowledgement, isAnomalyRecord,
  type IncidentStatus, type IncidentFeedback, type IncidentRecord, type IncidentResolution, type IncidentAcknowledgement, type AnomalyTopicRecord, type Silence, type StoredAnomaly,
} from './incident-lifecycle.js';
export {
  createRedactor, compileRedactionPatterns, describeRedactions, isCardNumber, isSecretKey, passesLuhn, REDACTION_RULES,
  type Redactor, type RedactionRule, type RedactionPattern, type RedactionOptions, type RedactionCounts,
} from './redaction.js';
export { workerModuleUrl } from './worker-module.js';
export { SERIES_STATUS_PLUGIN, SERIES_STATUS_VERSION, seriesOfKey, type SeriesKind, type DetectorSeriesStatus, type ServiceDetectionStatus } from './series-status.js';
export type { ServiceMinute, ServicePoint, ServiceOverview, ServiceSummary } from './services.js';
