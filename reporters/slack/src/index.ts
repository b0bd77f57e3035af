import { IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';
import { HeliosError } from '@helios/core';
import { Type, definePlugin, retryAfterMs as parseRetryAfter, deliverWithRetry } from '@helios/plugins';
import { buildSlackMessage, buildSlackResolvedMessage } from './message.js';

const configSchema = Type.Object(
  {
    webhookUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'Incoming webhook URL; prefer webhookUrlEnv so the secret stays out of config files.' })),
    webhookUrlEnv: Type.String({ minLength: 1, default: 'HELIOS_SLACK_WEBHOOK_URL', description: 'Environment variable holding the webhook URL (used when webhookUrl is not set).' }),
    reportUrlTemplate: Type.Optional(Type.String({ pattern: '^https?://', description: 'Link to the full report; {id}, {anomalyId}, {service}, {tenant} are replaced, e.g. https://helios.example.com/api/v1/reports/{id}?format=markdown' })),
    summaryChars: Type.Integer({ minimum: 100, maximum: 3000, default: 600, description: 'Longest executive summary in the message (Slack allows 3,000).' }),
    timeoutMs: Type.Integer({ minimum: 1, default: 10_000, description: 'Per request.' }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 10, default: 4, description: 'Attempts per delivery on 429, 5xx and network errors.' }),
    initialBackoffMs: Type.Integer({ minimum: 0, default: 500, description: 'First wait between attempts without Retry-After; doubles each time.' }),
    maxRetryAfterMs: Type.Integer({ minimum: 0, default: 30_000, description: 'Longest wait honoured from a Retry-After header (Slack asks for seconds to minutes).' }),
  },
  { additionalProperties: false },
);

/** Longest wait a timer takes (setTimeout fires at once beyond it). */

/** Retryable per Slack's docs: rate limited (429), server errors, and no answer at all. */
function retryable(err: unknown): boolean {
  if (err instanceof IncomingWebhookHTTPError) return err.statusCode === 429 || err.statusCode >= 500;
  return true;
}

/**
 * Posts a concise Block Kit message per report to a Slack incoming webhook. 429s wait as long as
 * Retry-After says (capped); other retryable failures back off exponentially; attempts are bounded,
 * then the delivery fails (and the report runtime may try again later).
 */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-slack',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'Delivers each report as a Slack message (severity, service, summary, link), and its resolution, through an incoming webhook.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const url = o.webhookUrl ?? process.env[o.webhookUrlEnv];
    if (url === undefined || url === '') throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `webhookUrl: not set, and environment variable ${o.webhookUrlEnv} (webhookUrlEnv) is empty`);
    const channel = new URL(url).host;
    /** One message, with the shared bounded retry: 429 waits Retry-After (capped), 5xx and network errors back off. */
    async function send(message: ReturnType<typeof buildSlackMessage>): Promise<{ location: string }> {
      // The client reports a 429's status but not its headers; read Retry-After off the response here.
      let retryAfterMs: number | undefined;
      const webhook = new IncomingWebhook(url!, {
        timeout: o.timeoutMs,
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
          return response;
        },
      });
      return deliverWithRetry('Slack webhook', o, async () => {
        retryAfterMs = undefined;
        try {
          await webhook.send(message);
          return { status: 'success', value: { location: `slack:${channel}` } };
        } catch (err) {
          const error = err instanceof IncomingWebhookHTTPError ? `HTTP ${err.statusCode}${err.body ? `: ${err.body.slice(0, 100)}` : ''}` : (err as Error).message;
          if (!retryable(err)) return { status: 'failure', error };
          return retryAfterMs === undefined ? { status: 'retryable', error } : { status: 'retryable', error, retryAfterMs };
        }
      }, ctx.logger);
    }

    return {
      pages: true,
      deliver: (report, incident) => send(buildSlackMessage(report, incident, { reportUrlTemplate: o.reportUrlTemplate, summaryChars: o.summaryChars })),
      resolve: ({ incident, report }) => send(buildSlackResolvedMessage(incident, report, { reportUrlTemplate: o.reportUrlTemplate })),
    };
  },
});

export { buildSlackMessage, buildSlackResolvedMessage, reportUrl } from './message.js';
