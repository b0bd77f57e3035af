export { WindowAggregator, type WindowOptions, type ClosedWindow, type TelemetryGap } from './windows.js';
export { metricSeriesOf, type ClosedMetricWindow } from './metric-windows.js';
export { createGapPublisher, type GapPublisher, type GapPublisherOptions } from './telemetry-gaps.js';
export { startDetectRuntime, severityOf, metricSeverityOf, createIncidentTracker, votesNeeded, type DetectRuntime, type DetectRuntimeOptions, type IncidentTracker, type TrackerStep, type Verdict, type VoteRule } from './detect-runtime.js';
export { ServiceIncidents } from './service-incidents.js';
export { streamOf, type EventStream } from './event-streams.js';
