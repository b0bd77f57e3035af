import { HeliosError } from '@helios/core';
import { Type, definePlugin, deliverWithRetry, deliveryRetryOptions, postJson } from '@helios/plugins';
import { firingAlert, resolvedAlert, type PostableAlert } from './alert.js';

const configSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Alertmanager base URL, e.g. http://alertmanager:9093 (alerts go to <url>/api/v2/alerts).' }),
    firingTtlMs: Type.Integer({ minimum: 60_000, default: 86_400_000, description: 'endsAt of a firing alert from now: it fires until the incident resolves or this long passes (a safety net if the resolution is lost).' }),
    reportUrlTemplate: Type.Optional(Type.String({ pattern: '^https?://', description: 'generatorURL and report_url annotation; {id}, {anomalyId}, {service}, {tenant} are replaced.' })),
    bearerToken: Type.Optional(Type.String({ minLength: 1, description: 'Sent as Authorization: Bearer (an Alertmanager behind an authenticating proxy); prefer bearerTokenEnv.' })),
    bearerTokenEnv: Type.String({ minLength: 1, default: 'HELIOS_ALERTMANAGER_TOKEN', description: 'Environment variable holding the bearer token (optional).' }),
    ...deliveryRetryOptions,
  },
  { additionalProperties: false },
);

/**
 * Pushes an alert per incident to Alertmanager's API v2 (labels alertname=HeliosIncident, service,
 * severity, tenant, incident_id) and resolves it with the same labels and endsAt=now, so Alertmanager's
 * routing, grouping, inhibition and silences apply. 5xx, 429 and network errors are retried (bounded).
 */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-alertmanager',
  version: '0.1.0',
  apiVersion: '^1.5.0',
  description: 'Fires and resolves Alertmanager alerts (POST /api/v2/alerts) for Helios incidents.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const endpoint = `${o.url.replace(/\/+$/, '')}/api/v2/alerts`;
    const token = o.bearerToken ?? process.env[o.bearerTokenEnv];
    if (token !== undefined && /[\r\n]/.test(token)) throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', 'bearerToken: must not contain line breaks');
    const host = new URL(endpoint).host;

    async function push(alert: PostableAlert, what: string): Promise<{ location: string }> {
      const body = JSON.stringify([alert]);
      return deliverWithRetry(`Alertmanager ${host} (${what})`, o, async () => {
        const outcome = await postJson(endpoint, body, { timeoutMs: o.timeoutMs, ...(token === undefined || token === '' ? {} : { headers: { authorization: `Bearer ${token}` } }) });
        return outcome.status === 'success' ? { status: 'success', value: { location: `alertmanager:${host}/${alert.labels['incident_id']}` } } : outcome;
      }, ctx.logger);
    }

    return {
      pages: true,
      deliver: (report, incident) => push(firingAlert(report, incident, { now: ctx.now(), firingTtlMs: o.firingTtlMs, reportUrlTemplate: o.reportUrlTemplate }), 'firing'),
      resolve: ({ incident, report }) => push(resolvedAlert(incident, report, { now: ctx.now(), reportUrlTemplate: o.reportUrlTemplate }), 'resolved'),
    };
  },
});

export { firingAlert, resolvedAlert, incidentLabels, type PostableAlert } from './alert.js';
