import { HeliosError, newEventId } from '@helios/core';
import { Type, definePlugin, deliverWithRetry, deliveryRetryOptions, postJson } from '@helios/plugins';
import { acknowledgedPayload, openedPayload, resolvedPayload, type WebhookPayload } from './payload.js';
import { SIGNATURE_HEADER, signWebhookBody } from './signature.js';

const configSchema = Type.Object(
  {
    url: Type.Optional(Type.String({ pattern: '^https?://', description: 'Where to POST; prefer urlEnv when the URL carries a token.' })),
    urlEnv: Type.String({ minLength: 1, default: 'HELIOS_WEBHOOK_URL', description: 'Environment variable holding the URL (used when url is not set).' }),
    secret: Type.Optional(Type.String({ minLength: 16, description: 'HMAC-SHA256 signing secret; prefer secretEnv so it stays out of config files.' })),
    secretEnv: Type.String({ minLength: 1, default: 'HELIOS_WEBHOOK_SECRET', description: 'Environment variable holding the signing secret (used when secret is not set); start fails without one.' }),
    reportUrlTemplate: Type.Optional(Type.String({ pattern: '^https?://', description: 'Link to the full report in the payload; {id}, {anomalyId}, {service}, {tenant} are replaced.' })),
    ...deliveryRetryOptions,
  },
  { additionalProperties: false },
);

/**
 * POSTs each incident's opening, acknowledgement and resolution as signed JSON to one URL. The signature
 * (`x-helios-signature: t=<unix>,v1=<hex>`) is an HMAC-SHA256 over `<t>.<raw body>`; receivers check it
 * with `verifyWebhookSignature`. 429/5xx/network errors are retried with bounded backoff honouring Retry-After.
 */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-webhook',
  version: '0.1.0',
  apiVersion: '^1.6.0',
  description: 'Delivers incident openings, acknowledgements and resolutions as HMAC-signed JSON to a webhook, with bounded retries.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const url = o.url ?? process.env[o.urlEnv];
    if (url === undefined || url === '') throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `url: not set, and environment variable ${o.urlEnv} (urlEnv) is empty`);
    if (!/^https?:\/\//.test(url)) throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `url: expected an http(s) URL in ${o.urlEnv}`);
    const secret = o.secret ?? process.env[o.secretEnv];
    if (secret === undefined || secret.length < 16) throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `secret: not set (or shorter than 16 characters), and environment variable ${o.secretEnv} (secretEnv) is empty or too short`);
    const host = new URL(url).host;

    /** The body is serialized once: retries resend the same bytes (same deliveryId), each signed with its own time. */
    async function send(payload: WebhookPayload): Promise<{ location: string }> {
      const body = JSON.stringify(payload);
      return deliverWithRetry(`webhook ${host} (${payload.type})`, o, async () => {
        const signature = signWebhookBody(secret!, body, Math.floor(ctx.now() / 1000));
        const outcome = await postJson(url!, body, { timeoutMs: o.timeoutMs, headers: { [SIGNATURE_HEADER]: signature, 'x-helios-event': payload.type, 'x-helios-delivery': payload.deliveryId, 'user-agent': 'helios-webhook/0.1' } });
        return outcome.status === 'success' ? { status: 'success', value: { location: `webhook:${host}` } } : outcome;
      }, ctx.logger);
    }

    return {
      pages: true,
      deliver: (report, incident) => send(openedPayload(newEventId(), report, incident, o.reportUrlTemplate)),
      resolve: ({ incident, report }) => send(resolvedPayload(newEventId(), incident, report, o.reportUrlTemplate)),
      acknowledge: ({ incident, report }) => send(acknowledgedPayload(newEventId(), incident, report, o.reportUrlTemplate)),
    };
  },
});

export { signWebhookBody, verifyWebhookSignature, SIGNATURE_HEADER, type SignatureCheck } from './signature.js';
export type { WebhookPayload } from './payload.js';
