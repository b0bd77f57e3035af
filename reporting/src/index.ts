export { startReportRuntime, type ReportRuntime, type ReportRuntimeOptions } from './report-runtime.js';
