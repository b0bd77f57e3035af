import { describe, expect, it } from 'vitest';
import { sampleIncident } from '@helios/plugins/testing';
import { buildMessages } from './prompt.js';

describe('buildMessages', () => {
  it('names the metric series of an anomaly in one, and nothing of the kind for a request-series anomaly', () => {
    const facts = (messages: ReturnType<typeof buildMessages>) => JSON.parse(String(messages[1]!.content).replace(/^Incident:\n/, '')) as Record<string, unknown>;
    const incident = sampleIncident();
    expect(facts(buildMessages(incident, false))).not.toHaveProperty('metricSeries');
    const metric = { name: 'queue.depth', attributes: { queue: 'orders' } };
    expect(facts(buildMessages({ ...incident, anomaly: { ...incident.anomaly, metric } }, false))).toMatchObject({ service: incident.anomaly.service, metricSeries: metric });
  });
});
