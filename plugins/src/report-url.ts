import type { IncidentReport } from '@helios/core';

/** A link to a report from a template: `{id}`, `{anomalyId}`, `{service}`, `{tenant}` are replaced (URL-encoded). */
export function reportUrl(template: string, report: Pick<IncidentReport, 'id' | 'anomalyId' | 'service' | 'tenant'>): string {
  return template.replace(/\{(id|anomalyId|service|tenant)\}/g, (_, key: 'id' | 'anomalyId' | 'service' | 'tenant') => encodeURIComponent(report[key]));
}
