import type { Incident, IncidentReport } from '@helios/core';
import type { ReportDraft } from './define.js';
import { formatDuration, incidentSpan } from './report-timeline.js';

const bullets = (items: readonly string[]) => (items.length === 0 ? '- (none)' : items.map((i) => `- ${i}`).join('\n'));

/**
 * The one Markdown layout of every Helios report, whoever composed it: five sections plus facts.
 * `notice` is shown under the title, for what a reader must know before trusting the text (e.g. the
 * LLM failed and the template wrote the report).
 */
export function renderReportMarkdown(draft: ReportDraft, incident: Incident, meta: { composer: string; createdAt: number; notice?: string }): string {
  const a = incident.anomaly;
  const s = draft.sections;
  // The incident's span, the same for every composer: facts from the store, not the composer's words.
  const span = incidentSpan(incident);
  const spanRows = span === undefined ? [] : [
    `| Started | ${new Date(span.start).toISOString()} |`,
    `| Duration | ${formatDuration(span.end - span.start)}, ${span.ongoing ? `**still going** as of ${new Date(span.end).toISOString()}` : `recovered at ${new Date(span.end).toISOString()}`} |`,
    `| Other services affected | ${span.otherServices.length === 0 ? 'none in the same minutes' : span.otherServices.map((o) => `\`${o.service}\` (${o.severity}, ${new Date(o.from).toISOString().slice(11, 16)}–${new Date(o.to).toISOString().slice(11, 16)} UTC)`).join(', ')} |`,
  ];
  const lines = [
    `# ${draft.title}`,
    '',
    ...(meta.notice === undefined ? [] : [`> **Note:** ${meta.notice}`, '']),
    `| | |`,
    `|---|---|`,
    `| Severity | **${draft.severity.toUpperCase()}** |`,
    `| Service | \`${a.service}\` (tenant \`${a.tenant}\`) |`,
    `| Window | ${new Date(a.windowStart).toISOString()} – ${new Date(a.windowEnd).toISOString()} |`,
    ...spanRows,
    `| Detector | ${a.detector} (score ${a.score.toFixed(3)}, threshold ${a.threshold.toFixed(3)}, model ${a.modelVersion}) |`,
    `| Anomaly id | \`${a.id}\` |`,
    '',
    '## Executive Summary',
    '',
    s.executiveSummary,
    '',
    '## Root Cause Analysis',
    '',
    s.rootCauseAnalysis,
    '',
    '## Impact Assessment',
    '',
    s.impactAssessment,
    '',
    '## Recommended Actions',
    '',
    '### Immediate',
    bullets(s.recommendedActions.immediate),
    '',
    '### Short-term',
    bullets(s.recommendedActions.shortTerm),
    '',
    '### Long-term',
    bullets(s.recommendedActions.longTerm),
    '',
    '## Prevention Measures',
    '',
    bullets(s.preventionMeasures),
    '',
    '---',
    `_Written by ${meta.composer} at ${new Date(meta.createdAt).toISOString()}.${(draft.notes ?? []).map((n) => ` ${n}`).join('')}_`,
    '',
  ];
  return lines.join('\n');
}

export function reportFileName(report: Pick<IncidentReport, 'createdAt' | 'service' | 'id'>): string {
  const stamp = new Date(report.createdAt).toISOString().replace(/[:.]/g, '-');
  return `${stamp}_${report.service.replace(/[^a-zA-Z0-9._-]+/g, '_')}_${report.id.slice(0, 8)}`;
}
