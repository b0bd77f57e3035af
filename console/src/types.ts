/**
 * The shapes of the API's answers that the console reads (see GET /api/v1/openapi.json): core's own
 * types, imported type-only (erased by tsc, so the browser loads nothing of core). The value lists are
 * the console's: core's runtime code is not served to the browser.
 */
import type { IncidentStatus, Level, Severity } from '@helios/core';

export type {
  Anomaly, FeatureExplanation, HeliosEvent, IncidentContext, IncidentRecord, IncidentReport, IncidentStatus, Level, ReportChart,
  ServiceDetectionStatus, DetectorSeriesStatus, ServiceMinute, ServiceSummary, Severity,
} from '@helios/core';

export const LEVELS: readonly Level[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'];
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged', 'resolved'];

/** A page of a list endpoint: `next` is the cursor of the following page (null on the last). */
export interface Page<T> { items: T[]; next: string | null }
