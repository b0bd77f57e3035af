import { HeliosError } from '@helios/core';
import { Type, definePlugin, deliverWithRetry, deliveryRetryOptions, requestJson } from '@helios/plugins';
import { acknowledgementSilence, firingAlert, resolvedAlert, type PostableAlert } from './alert.js';

const configSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Alertmanager base URL, e.g. http://alertmanager:9093 (alerts go to <url>/api/v2/alerts).' }),
    firingTtlMs: Type.Integer({ minimum: 60_000, default: 86_400_000, description: 'endsAt of a firing alert from now: it fires until the incident resolves or this long passes (a safety net if the resolution is lost).' }),
    ackSilenceMs: Type.Integer({ minimum: 60_000, default: 14_400_000, description: 'An acknowledged incident\'s alert is silenced (POST /api/v2/silences) for this long, or until the incident resolves (the silence is then expired, so the resolution is notified).' }),
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
 * routing, grouping, inhibition and silences apply. Alertmanager has no acknowledgement: an incident
 * acknowledged in Helios silences its own alert (ackSilenceMs, or until it resolves). 5xx, 429 and network errors are retried (bounded).
 */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-alertmanager',
  version: '0.1.0',
  apiVersion: '^1.6.0',
  description: 'Fires and resolves Alertmanager alerts (POST /api/v2/alerts) for Helios incidents; an acknowledgement silences the alert.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const endpoint = `${o.url.replace(/\/+$/, '')}/api/v2/alerts`;
    const token = o.bearerToken ?? process.env[o.bearerTokenEnv];
    if (token !== undefined && /[\r\n]/.test(token)) throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', 'bearerToken: must not contain line breaks');
    const host = new URL(endpoint).host;

    const api = o.url.replace(/\/+$/, '');
    const auth = token === undefined || token === '' ? {} : { headers: { authorization: `Bearer ${token}` } };
    /** One API call with the shared retry policy; `accepted` widens success (a DELETE of a silence already gone). */
    function call(method: 'POST' | 'DELETE', url: string, body: string | undefined, what: string, accepted?: (status: number) => boolean): Promise<string> {
      return deliverWithRetry(`Alertmanager ${host} (${what})`, o, async () => {
        const outcome = await requestJson(method, url, body, { timeoutMs: o.timeoutMs, ...auth, ...(accepted === undefined ? {} : { accepted }) });
        return outcome.status === 'success' ? { status: 'success', value: outcome.value.text } : outcome;
      }, ctx.logger);
    }
    async function push(alert: PostableAlert, what: string): Promise<{ location: string }> {
      await call('POST', endpoint, JSON.stringify([alert]), what);
      return { location: `alertmanager:${host}/${alert.labels['incident_id']}` };
    }
    /**
     * Incident id -> the silence its acknowledgement made. In memory: after a restart an acknowledged
     * incident's silence is not expired at its resolution and runs to its end (ackSilenceMs).
     */
    const ackSilences = new Map<string, string>();

    return {
      pages: true,
      deliver: (report, incident) => push(firingAlert(report, incident, { now: ctx.now(), firingTtlMs: o.firingTtlMs, reportUrlTemplate: o.reportUrlTemplate }), 'firing'),
      async acknowledge({ incident }) {
        const known = ackSilences.get(incident.id);
        // A redelivered acknowledgement: the silence is there already.
        if (known !== undefined) return { location: `alertmanager:${host}/silences/${known}` };
        const text = await call('POST', `${api}/api/v2/silences`, JSON.stringify(acknowledgementSilence(incident, { now: ctx.now(), durationMs: o.ackSilenceMs })), 'acknowledged');
        const id = (JSON.parse(text) as { silenceID?: unknown }).silenceID;
        if (typeof id !== 'string') throw new HeliosError('HLS_ERR_PLUGIN_FAILED', `Alertmanager ${host} answered a silence without silenceID: ${text.slice(0, 200)}`);
        ackSilences.set(incident.id, id);
        return { location: `alertmanager:${host}/silences/${id}` };
      },
      async resolve({ incident, report }) {
        // The acknowledgement's silence first: a silenced alert's resolution is not notified.
        const silence = ackSilences.get(incident.id);
        if (silence !== undefined) {
          await call('DELETE', `${api}/api/v2/silence/${encodeURIComponent(silence)}`, undefined, 'silence expired', (s) => (s >= 200 && s < 300) || s === 404);
          ackSilences.delete(incident.id);
        }
        return push(resolvedAlert(incident, report, { now: ctx.now(), reportUrlTemplate: o.reportUrlTemplate }), 'resolved');
      },
    };
  },
});

export { acknowledgementSilence, firingAlert, resolvedAlert, incidentLabels, type PostableAlert, type PostableSilence } from './alert.js';
