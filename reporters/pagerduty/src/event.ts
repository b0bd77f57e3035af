import type { Incident, IncidentRecord, IncidentReport, Severity } from '@helios/core';
import { reportUrl } from '@helios/plugins';

/** PagerDuty's four event severities; Helios's `high` is PagerDuty's `error`. */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';
export const PAGERDUTY_SEVERITY: Record<Severity, PagerDutySeverity> = { critical: 'critical', high: 'error', medium: 'warning', low: 'info' };

/** An Events API v2 alert event (https://developer.pagerduty.com/docs/events-API-v2/trigger-events/). */
export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  /** The Helios incident id: the trigger and its resolve pair up on it, and a retried trigger is deduplicated. */
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: Array<{ href: string; text: string }>;
}

/** PagerDuty's limit on summary. */
const SUMMARY_MAX = 1024;

export function triggerEvent(routingKey: string, report: IncidentReport, incident: Incident, options: { source: string; reportUrlTemplate?: string | undefined; clientUrl?: string | undefined }): PagerDutyEvent {
  const a = incident.anomaly;
  const summary = `[${report.severity.toUpperCase()}] ${report.service}: ${report.title}`;
  const url = options.reportUrlTemplate === undefined ? undefined : reportUrl(options.reportUrlTemplate, report);
  return {
    routing_key: routingKey, event_action: 'trigger', dedup_key: a.id,
    payload: {
      summary: summary.length <= SUMMARY_MAX ? summary : `${summary.slice(0, SUMMARY_MAX - 1)}…`,
      source: options.source, severity: PAGERDUTY_SEVERITY[report.severity], timestamp: new Date(a.detectedAt).toISOString(),
      component: a.service, group: a.tenant, class: a.metric === undefined ? 'service anomaly' : 'metric anomaly',
      custom_details: {
        tenant: a.tenant, service: a.service, ...(a.metric === undefined ? {} : { metric: a.metric.name }), report_id: report.id, detector: a.detector,
        score: a.score, threshold: a.threshold, window_start: new Date(a.windowStart).toISOString(), window_end: new Date(a.windowEnd).toISOString(),
        executive_summary: report.sections.executiveSummary, immediate_actions: report.sections.recommendedActions.immediate,
      },
    },
    client: 'Helios', ...(options.clientUrl === undefined ? {} : { client_url: options.clientUrl }),
    ...(url === undefined ? {} : { links: [{ href: url, text: 'Helios incident report' }] }),
  };
}

/** A resolve names only the routing key and the dedup key; PagerDuty ignores a payload on it. */
export function resolveEvent(routingKey: string, incident: IncidentRecord): PagerDutyEvent {
  return { routing_key: routingKey, event_action: 'resolve', dedup_key: incident.id };
}

/** An acknowledge names the routing key and the dedup key: PagerDuty stops escalating the alert until it resolves (or its ack timeout re-triggers it). */
export function acknowledgeEvent(routingKey: string, incident: IncidentRecord): PagerDutyEvent {
  return { routing_key: routingKey, event_action: 'acknowledge', dedup_key: incident.id };
}
