import type { Incident, IncidentRecord, IncidentReport } from '@helios/core';
import { reportUrl } from '@helios/plugins';

/** The JSON a webhook receives. `type` says which; `incident.id` is stable across all three (use it to pair them and to deduplicate). */
export type WebhookPayload =
  | {
    type: 'incident.opened';
    /** Unique per delivery, the same across its retries: receivers deduplicate on it. */
    deliveryId: string;
    incident: { id: string; tenant: string; service: string; severity: string; status: 'open'; openedAt: string; metric?: string };
    report: { id: string; title: string; severity: string; executiveSummary: string; immediateActions: string[]; url?: string };
    anomaly: { detector: string; score: number; threshold: number; windowStart: string; windowEnd: string; topFeatures: Array<{ feature: string; value: number; baseline: number; direction: string }> };
  }
  | {
    type: 'incident.acknowledged';
    deliveryId: string;
    incident: { id: string; tenant: string; service: string; severity: string; status: 'acknowledged'; openedAt: string; acknowledgedAt: string; acknowledgedBy: string; metric?: string };
    report?: { id: string; title: string; url?: string };
  }
  | {
    type: 'incident.resolved';
    deliveryId: string;
    incident: { id: string; tenant: string; service: string; severity: string; status: 'resolved'; openedAt: string; resolvedAt: string; resolvedBy: string; metric?: string };
    report?: { id: string; title: string; url?: string };
  };

const iso = (ms: number) => new Date(ms).toISOString();

export function openedPayload(deliveryId: string, report: IncidentReport, incident: Incident, reportUrlTemplate: string | undefined): WebhookPayload {
  const a = incident.anomaly;
  const url = reportUrlTemplate === undefined ? undefined : reportUrl(reportUrlTemplate, report);
  return {
    type: 'incident.opened', deliveryId,
    incident: { id: a.id, tenant: a.tenant, service: a.service, severity: report.severity, status: 'open', openedAt: iso(a.detectedAt), ...(a.metric === undefined ? {} : { metric: a.metric.name }) },
    report: { id: report.id, title: report.title, severity: report.severity, executiveSummary: report.sections.executiveSummary, immediateActions: report.sections.recommendedActions.immediate, ...(url === undefined ? {} : { url }) },
    anomaly: {
      detector: a.detector, score: a.score, threshold: a.threshold, windowStart: iso(a.windowStart), windowEnd: iso(a.windowEnd),
      topFeatures: a.explanation.slice(0, 3).map((e) => ({ feature: e.feature, value: e.value, baseline: e.baseline, direction: e.direction })),
    },
  };
}

/** The incident's identity and times as the lifecycle payloads (acknowledged, resolved) carry them. */
function lifecycleIncident(incident: IncidentRecord) {
  return { id: incident.id, tenant: incident.tenant, service: incident.service, severity: incident.severity, openedAt: iso(incident.openedAt), ...(incident.series === undefined ? {} : { metric: incident.series }) };
}

function reportLink(report: IncidentReport | undefined, reportUrlTemplate: string | undefined) {
  if (report === undefined) return {};
  const url = reportUrlTemplate === undefined ? undefined : reportUrl(reportUrlTemplate, report);
  return { report: { id: report.id, title: report.title, ...(url === undefined ? {} : { url }) } };
}

export function acknowledgedPayload(deliveryId: string, incident: IncidentRecord, report: IncidentReport | undefined, reportUrlTemplate: string | undefined): WebhookPayload {
  return {
    type: 'incident.acknowledged', deliveryId,
    incident: { ...lifecycleIncident(incident), status: 'acknowledged', acknowledgedAt: iso(incident.acknowledgedAt ?? incident.updatedAt), acknowledgedBy: incident.acknowledgedBy ?? 'unknown' },
    ...reportLink(report, reportUrlTemplate),
  };
}

export function resolvedPayload(deliveryId: string, incident: IncidentRecord, report: IncidentReport | undefined, reportUrlTemplate: string | undefined): WebhookPayload {
  return {
    type: 'incident.resolved', deliveryId,
    incident: { ...lifecycleIncident(incident), status: 'resolved', resolvedAt: iso(incident.resolvedAt ?? incident.updatedAt), resolvedBy: incident.resolvedBy ?? 'unknown' },
    ...reportLink(report, reportUrlTemplate),
  };
}
