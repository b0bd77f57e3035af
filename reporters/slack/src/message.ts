import type { Incident, IncidentRecord, IncidentReport, Severity } from '@helios/core';
import { reportUrl } from '@helios/plugins';
import type { IncomingWebhookSendArguments } from '@slack/webhook';

type Block = NonNullable<IncomingWebhookSendArguments['blocks']>[number];

const SEVERITY_EMOJI: Record<Severity, string> = { critical: ':red_circle:', high: ':large_orange_circle:', medium: ':large_yellow_circle:', low: ':white_circle:' };

/** Slack's limit for a section's text is 3,000 characters; a summary should be far shorter anyway. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A concise Block Kit message: severity and service up front, the executive summary, a link to the rest. */
export function buildSlackMessage(report: IncidentReport, incident: Incident, options: { reportUrlTemplate?: string | undefined; summaryChars: number }) {
  const a = incident.anomaly;
  const url = options.reportUrlTemplate === undefined ? undefined : reportUrl(options.reportUrlTemplate, report);
  const fallbackText = `${report.severity.toUpperCase()} ${report.service}: ${report.title}`;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(report.title, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Severity*\n${SEVERITY_EMOJI[report.severity]} ${report.severity.toUpperCase()}` },
        { type: 'mrkdwn', text: `*Service*\n\`${report.service}\` (tenant \`${report.tenant}\`)` },
        { type: 'mrkdwn', text: `*Window*\n<!date^${Math.floor(a.windowStart / 1000)}^{time}|${new Date(a.windowStart).toISOString()}> – <!date^${Math.floor(a.windowEnd / 1000)}^{time}|${new Date(a.windowEnd).toISOString()}>` },
        { type: 'mrkdwn', text: `*Detector*\n${a.detector} (score ${a.score.toFixed(2)})` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(report.sections.executiveSummary, options.summaryChars) } },
  ];
  const first = report.sections.recommendedActions.immediate[0];
  if (first !== undefined) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*First step:* ${first}`, 500) } });
  if (url !== undefined) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Full report' }, url, action_id: 'helios_open_report' }] });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Report \`${report.id}\` written by ${report.composer}` }] });
  return { text: fallbackText, blocks };
}

/** The incident is over: one line naming the service, who resolved it and how long it lasted, with the report link. */
export function buildSlackResolvedMessage(incident: IncidentRecord, report: IncidentReport | undefined, options: { reportUrlTemplate?: string | undefined }) {
  const resolvedAt = incident.resolvedAt ?? incident.updatedAt;
  const minutes = Math.max(0, Math.round((resolvedAt - incident.openedAt) / 60_000));
  const title = report?.title ?? `${incident.severity} incident in ${incident.service}`;
  const url = report === undefined || options.reportUrlTemplate === undefined ? undefined : reportUrl(options.reportUrlTemplate, report);
  const text = `:white_check_mark: Resolved: \`${incident.service}\` (tenant \`${incident.tenant}\`) ${clip(title, 150)}, by ${incident.resolvedBy ?? 'unknown'} after ${minutes} min`;
  const blocks: Block[] = [{ type: 'section', text: { type: 'mrkdwn', text: url === undefined ? text : `${text} (<${url}|report>)` } }];
  return { text: `RESOLVED ${incident.service}: ${title}`, blocks };
}

export { reportUrl };
