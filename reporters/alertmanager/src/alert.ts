import { metricSeriesName, type Incident, type IncidentRecord, type IncidentReport } from '@helios/core';
import { reportUrl } from '@helios/plugins';

/** Alertmanager API v2 `postableAlert` (api/v2/openapi.yaml): labels required, the rest optional. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

/** The alert's identity in Alertmanager is its label set: the opening and the resolution send the same labels. */
/** `series`: the metric series (`metricSeriesName`, as the incident record stores it) of an anomaly in one. */
export function incidentLabels(incident: { id: string; tenant: string; service: string; severity: string; series?: string | undefined }): Record<string, string> {
  return {
    alertname: 'HeliosIncident', service: incident.service, severity: incident.severity, tenant: incident.tenant, incident_id: incident.id,
    ...(incident.series === undefined ? {} : { series: incident.series }),
  };
}

export function firingAlert(report: IncidentReport, incident: Incident, options: { now: number; firingTtlMs: number; reportUrlTemplate?: string | undefined }): PostableAlert {
  const a = incident.anomaly;
  const url = options.reportUrlTemplate === undefined ? undefined : reportUrl(options.reportUrlTemplate, report);
  return {
    labels: incidentLabels({ id: a.id, tenant: a.tenant, service: a.service, severity: a.severity, series: a.metric === undefined ? undefined : metricSeriesName(a.metric) }),
    annotations: {
      summary: `${report.service}: ${report.title}`, description: report.sections.executiveSummary, report_id: report.id, detector: a.detector,
      ...(url === undefined ? {} : { report_url: url }),
    },
    startsAt: new Date(a.detectedAt).toISOString(),
    // Helios sends an alert once (Prometheus re-sends its own): without endsAt Alertmanager would resolve it after
    // its resolve_timeout (5 min by default). It fires until the resolution, or firingTtlMs as a safety net.
    endsAt: new Date(Math.max(options.now, a.detectedAt) + options.firingTtlMs).toISOString(),
    ...(url === undefined ? {} : { generatorURL: url }),
  };
}

/** The same labels with endsAt now: Alertmanager marks the alert resolved and notifies receivers with send_resolved. */
export function resolvedAlert(incident: IncidentRecord, report: IncidentReport | undefined, options: { now: number; reportUrlTemplate?: string | undefined }): PostableAlert {
  const url = report === undefined || options.reportUrlTemplate === undefined ? undefined : reportUrl(options.reportUrlTemplate, report);
  return {
    labels: incidentLabels({ id: incident.id, tenant: incident.tenant, service: incident.service, severity: incident.severity, series: incident.series }),
    annotations: { summary: `${incident.service}: incident resolved by ${incident.resolvedBy ?? 'unknown'}`, ...(report === undefined ? {} : { report_id: report.id }), ...(url === undefined ? {} : { report_url: url }) },
    startsAt: new Date(incident.openedAt).toISOString(),
    endsAt: new Date(Math.max(options.now, incident.openedAt + 1)).toISOString(),
    ...(url === undefined ? {} : { generatorURL: url }),
  };
}

/** Alertmanager API v2 `postableSilence`: matchers on the alert's labels over [startsAt, endsAt). */
export interface PostableSilence {
  matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual: boolean }>;
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/**
 * Alertmanager has no acknowledgement: an acknowledged incident becomes a silence of its own alert (the
 * incident id label matches it alone), as Alertmanager UIs such as karma do. Receivers stop being
 * re-notified (repeat_interval) while the alert stays visible, as silenced, until it resolves.
 */
export function acknowledgementSilence(incident: IncidentRecord, options: { now: number; durationMs: number }): PostableSilence {
  const by = incident.acknowledgedBy ?? 'unknown';
  const at = incident.acknowledgedAt ?? options.now;
  return {
    matchers: [
      { name: 'alertname', value: 'HeliosIncident', isRegex: false, isEqual: true },
      { name: 'incident_id', value: incident.id, isRegex: false, isEqual: true },
    ],
    startsAt: new Date(options.now).toISOString(),
    endsAt: new Date(options.now + options.durationMs).toISOString(),
    createdBy: `helios (${by})`,
    comment: `Helios incident ${incident.id} of ${incident.service} acknowledged by ${by} at ${new Date(at).toISOString()}; Helios expires this silence when the incident resolves.`,
  };
}
