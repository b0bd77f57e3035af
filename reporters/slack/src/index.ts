import { IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';
import { HeliosError, attemptOf, retry } from '@helios/core';
import { Type, definePlugin } from '@helios/plugins';
import { buildSlackMessage } from './message.js';

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
const MAX_TIMER_MS = 2_147_483_647;

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
  description: 'Delivers each report as a Slack message (severity, service, summary, link) through an incoming webhook.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const url = o.webhookUrl ?? process.env[o.webhookUrlEnv];
    if (url === undefined || url === '') throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `webhookUrl: not set, and environment variable ${o.webhookUrlEnv} (webhookUrlEnv) is empty`);
    const channel = new URL(url).host;
    return {
      async deliver(report, incident) {
        const message = buildSlackMessage(report, incident, { reportUrlTemplate: o.reportUrlTemplate, summaryChars: o.summaryChars });
        // The client reports a 429's status but not its headers; read Retry-After off the response here.
        let retryAfterMs: number | undefined;
        const webhook = new IncomingWebhook(url, {
          timeout: o.timeoutMs,
          fetch: async (input, init) => {
            const response = await fetch(input, init);
            const header = response.headers.get('retry-after');
            retryAfterMs = header !== null && /^\d+(\.\d+)?$/.test(header.trim()) ? Number(header) * 1000 : undefined;
            return response;
          },
        });
        let attempts = 0;
        const outcome = await retry(
          (n) => {
            attempts = n;
            retryAfterMs = undefined;
            return attemptOf(
              () => webhook.send(message),
              (err) => (!retryable(err) ? 'failure' : retryAfterMs !== undefined ? { retryInMs: Math.min(retryAfterMs, o.maxRetryAfterMs) } : 'retryable'),
            );
          },
          {
            // Backoff doubles without a cap of its own: maxAttempts (at most 10) bounds it.
            policy: { initialMs: o.initialBackoffMs, maxMs: MAX_TIMER_MS },
            maxAttempts: o.maxAttempts,
            onRetry: ({ attempt, waitMs, error }) => ctx.logger.warn({ attempt, waitMs, err: (error as Error).message }, 'Slack webhook failed; retrying'),
          },
        );
        if (outcome.status === 'success') return { location: `slack:${channel}` };
        const err = outcome.error;
        const status = err instanceof IncomingWebhookHTTPError ? ` (HTTP ${err.statusCode}${err.body ? `: ${err.body.slice(0, 100)}` : ''})` : '';
        throw new HeliosError('HLS_ERR_PLUGIN_FAILED', `Slack webhook failed after ${attempts} attempt(s)${status}: ${(err as Error).message}`, { cause: err });
      },
    };
  },
});

export { buildSlackMessage, reportUrl } from './message.js';
