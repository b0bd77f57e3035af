import { HeliosError } from '@helios/core';
import { Type, definePlugin, deliverWithRetry, deliveryRetryOptions, postJson } from '@helios/plugins';
import { acknowledgeEvent, resolveEvent, triggerEvent, type PagerDutyEvent } from './event.js';

const configSchema = Type.Object(
  {
    routingKey: Type.Optional(Type.String({ pattern: '^[0-9a-zA-Z]{32}$', description: 'The Events API v2 integration key of the PagerDuty service (32 characters); prefer routingKeyEnv.' })),
    routingKeyEnv: Type.String({ minLength: 1, default: 'HELIOS_PAGERDUTY_ROUTING_KEY', description: 'Environment variable holding the routing key (used when routingKey is not set).' }),
    eventsUrl: Type.String({ pattern: '^https?://', default: 'https://events.pagerduty.com/v2/enqueue', description: 'Events API v2 endpoint (the EU one is https://events.eu.pagerduty.com/v2/enqueue).' }),
    source: Type.String({ minLength: 1, default: 'helios', description: 'payload.source: where the alert comes from.' }),
    reportUrlTemplate: Type.Optional(Type.String({ pattern: '^https?://', description: 'Link to the full report attached to the alert; {id}, {anomalyId}, {service}, {tenant} are replaced.' })),
    clientUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'client_url: the Helios console or API shown on the alert.' })),
    ...deliveryRetryOptions,
  },
  { additionalProperties: false },
);

/**
 * Triggers a PagerDuty alert per incident, acknowledges it when someone acknowledges the incident in Helios,
 * and resolves it when the incident resolves, through the Events API v2 with the incident id as dedup_key. 202 is success; 429 and 5xx are retried (bounded, Retry-After
 * honoured); 400 (an invalid event) is not.
 */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-pagerduty',
  version: '0.1.0',
  apiVersion: '^1.6.0',
  description: 'Triggers, acknowledges and resolves PagerDuty alerts (Events API v2, dedup_key = incident id).',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const routingKey = o.routingKey ?? process.env[o.routingKeyEnv];
    if (routingKey === undefined || !/^[0-9a-zA-Z]{32}$/.test(routingKey)) throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `routingKey: not set (or not 32 letters and digits), and environment variable ${o.routingKeyEnv} (routingKeyEnv) is empty or malformed`);
    const host = new URL(o.eventsUrl).host;

    async function send(event: PagerDutyEvent): Promise<{ location: string }> {
      const body = JSON.stringify(event);
      return deliverWithRetry(`PagerDuty ${event.event_action}`, o, async () => {
        const outcome = await postJson(o.eventsUrl, body, { timeoutMs: o.timeoutMs });
        return outcome.status === 'success' ? { status: 'success', value: { location: `pagerduty:${host}/${event.dedup_key}` } } : outcome;
      }, ctx.logger);
    }

    return {
      pages: true,
      deliver: (report, incident) => send(triggerEvent(routingKey, report, incident, { source: o.source, reportUrlTemplate: o.reportUrlTemplate, clientUrl: o.clientUrl })),
      resolve: ({ incident }) => send(resolveEvent(routingKey, incident)),
      acknowledge: ({ incident }) => send(acknowledgeEvent(routingKey, incident)),
    };
  },
});

export { PAGERDUTY_SEVERITY, acknowledgeEvent, resolveEvent, triggerEvent, type PagerDutyEvent, type PagerDutySeverity } from './event.js';
