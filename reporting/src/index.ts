export { startReportRuntime, type ReportRuntime, type ReportRuntimeOptions } from './report-runtime.js';
export { createIncidentLifecycle, type IncidentLifecycle, type IncidentLifecycleOptions, type OpenedIncident } from './incident-lifecycle.js';
