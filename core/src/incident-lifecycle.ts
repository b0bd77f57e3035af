import type { Anomaly, MetricSeries, Severity } from './incident.js';

/**
 * An incident's life after its opening anomaly: who acknowledged it, when and by whom it was resolved,
 * whether a silence held its pages back, and the on-call's verdict on it. An incident's id is the id of
 * the anomaly that opened it (the detect runtime raises exactly one anomaly per incident).
 */
export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged', 'resolved'];

/** 👍 or 👎 on an incident (was it worth a page?), with an optional remark. */
export interface IncidentFeedback {
  rating: 'up' | 'down';
  comment?: string;
  by: string;
  at: number;
}

export interface IncidentRecord {
  /** The opening anomaly's id. */
  id: string;
  tenant: string;
  service: string;
  /** `metricSeriesName` of the metric series, or undefined for the service's requests. */
  series?: string;
  severity: Severity;
  status: IncidentStatus;
  openedAt: number;
  updatedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  resolvedAt?: number;
  /**
   * `detector` when the windows went back to normal; the API key's name that resolved it; or `superseded` when
   * a new incident of the same series opened while this one was still open (the detector had lost its state).
   */
  resolvedBy?: string;
  /** When the resolution was handed to the reporters (undefined until then). */
  resolutionDeliveredAt?: number;
  feedback?: IncidentFeedback;
  /** The incident report's id, once one is stored. */
  reportId?: string;
  /** The silence that held back this incident's pages, if one matched when it opened. */
  silencedBy?: string;
}

/**
 * "This incident is resolved": published on `Topics.anomalies` with the opening anomaly's bus key, so it
 * reaches the report runtime after the anomaly (same key, same order). Consumers of that topic tell the
 * two apart with `isIncidentResolution`.
 */
export interface IncidentResolution {
  kind: 'incident-resolved';
  incidentId: string;
  tenant: string;
  service: string;
  metric?: MetricSeries;
  resolvedAt: number;
  /** `detector`, or the name of the API key that resolved it. */
  by: string;
}

/**
 * "Someone acknowledged this incident" (through the API): published on `Topics.anomalies` with the
 * opening anomaly's bus key, so the report runtime tells the paging reporters (PagerDuty acknowledge,
 * an Alertmanager silence) after the opening.
 */
export interface IncidentAcknowledgement {
  kind: 'incident-acknowledged';
  incidentId: string;
  tenant: string;
  service: string;
  acknowledgedAt: number;
  /** The name of the API key that acknowledged it. */
  by: string;
}

/** What travels on `Topics.anomalies`: an incident's opening anomaly, its acknowledgement or its resolution. */
export type AnomalyTopicRecord = Anomaly | IncidentResolution | IncidentAcknowledgement;

export function isIncidentResolution(value: AnomalyTopicRecord): value is IncidentResolution {
  return (value as { kind?: unknown }).kind === 'incident-resolved';
}

export function isIncidentAcknowledgement(value: AnomalyTopicRecord): value is IncidentAcknowledgement {
  return (value as { kind?: unknown }).kind === 'incident-acknowledged';
}

/** An opening anomaly (not a lifecycle record: those carry a `kind`). */
export function isAnomalyRecord(value: AnomalyTopicRecord): value is Anomaly {
  return (value as { kind?: unknown }).kind === undefined;
}

/** A silence (maintenance window): pages of one tenant's service are held back in [startsAt, endsAt). */
export interface Silence {
  id: string;
  tenant: string;
  service: string;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  createdAt: number;
}

/** An anomaly as the store reads it back: with its incident's lifecycle and its report. */
export interface StoredAnomaly extends Anomaly {
  incidentId?: string;
  status?: IncidentStatus;
  resolvedAt?: number;
  reportId?: string;
}
