/**
 * /metrics stays bounded and private: service labels are capped per tenant and expire when idle, and
 * with API-key auth on only a metrics key reads it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.fixture.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.gateway.stop();
  h = undefined;
});

const metricLines = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`));

async function postEvents(url: string, events: object[], headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...headers }, body: events.map((e) => JSON.stringify(e)).join('\n') });
  return res.status;
}

describe('service label cardinality', () => {
  it('keeps 50,000 made-up service names to maxServicesPerTenant series, counts the rest as overflow, and keeps /metrics small', async () => {
    h = await startHarness('uws', { maxEventsPerRequest: 1000, maxBodyBytes: 1024 * 1024 }, { metricsConfig: { maxServicesPerTenant: 1000 } });
    for (let batch = 0; batch < 50; batch++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ service: `made-up-${batch * 1000 + i}`, level: 'INFO' }));
      expect(await postEvents(h.url, events)).toBe(202);
    }
    const text = await (await fetch(`${h.url}/metrics`)).text();
    const series = metricLines(text, 'helios_events_ingested_total');
    expect(series).toHaveLength(1001); // 1000 services of their own, plus __overflow__
    expect(text).toMatch(/^helios_events_ingested_total\{service="__overflow__",level="INFO"\} 49000$/m);
    expect(text).toMatch(/^helios_metrics_series_overflow_total\{tenant="default"\} 49000$/m);
    expect(text).toMatch(/^helios_metrics_service_labels 1000$/m);
    expect(text.length).toBeLessThan(200 * 1024);
    // Every event is still counted: the sum over series is what was accepted.
    const total = series.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    expect(total).toBe(50_000);
  });

  it('caps each tenant separately', async () => {
    const auth = { enabled: true, keys: [{ key: 'tenant-a-key', tenant: 'a' }, { key: 'tenant-b-key', tenant: 'b' }] };
    h = await startHarness('node', { auth }, { metricsConfig: { maxServicesPerTenant: 3, keys: ['scrape-key-1'] } });
    expect(await postEvents(h.url, Array.from({ length: 10 }, (_, i) => ({ service: `a-${i}` })), { authorization: 'Bearer tenant-a-key' })).toBe(202);
    expect(await postEvents(h.url, [{ service: 'b-0' }], { authorization: 'Bearer tenant-b-key' })).toBe(202);
    const text = await (await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer scrape-key-1' } })).text();
    expect(text).toMatch(/^helios_metrics_series_overflow_total\{tenant="a"\} 7$/m);
    expect(text).not.toMatch(/helios_metrics_series_overflow_total\{tenant="b"\}/);
    expect(text).toMatch(/^helios_events_ingested_total\{service="b-0",level="INFO"\} 1$/m);
  });

  it('removes series idle longer than seriesIdleMs (injected clock), which frees their places', async () => {
    let clock = 1_000_000;
    h = await startHarness('uws', {}, { now: () => clock, metricsConfig: { maxServicesPerTenant: 2, seriesIdleMs: 60_000 } });
    expect(await postEvents(h.url, [{ service: 'old-1' }, { service: 'old-2' }, { service: 'over' }])).toBe(202);
    let text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(/service="old-1"/);
    expect(text).toMatch(/service="__overflow__"/);
    clock += 30_000;
    expect(await postEvents(h.url, [{ service: 'old-2' }])).toBe(202); // old-2 stays in use
    clock += 45_000; // old-1 idle 75 s, old-2 idle 45 s
    text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).not.toMatch(/service="old-1"/);
    expect(text).toMatch(/^helios_events_ingested_total\{service="old-2",level="INFO"\} 2$/m);
    // old-1's place is free again for a new service.
    expect(await postEvents(h.url, [{ service: 'new-1' }])).toBe(202);
    text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(/^helios_events_ingested_total\{service="new-1",level="INFO"\} 1$/m);
    expect(text).toMatch(/^helios_metrics_series_overflow_total\{tenant="default"\} 1$/m);
  });
});

describe.each(['uws', 'node'] as const)('/metrics access over %s', (transport) => {
  const auth = { enabled: true, keys: [{ key: 'tenant-key-1', tenant: 'acme' }] };

  it('requires a metrics key when API-key auth is on; tenant keys are not metrics keys', async () => {
    h = await startHarness(transport, { auth }, { metricsConfig: { keys: ['scrape-key-1'] } });
    const none = await fetch(`${h.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('HLS_ERR_UNAUTHORIZED');
    expect((await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer tenant-key-1' } })).status).toBe(401);
    expect((await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer wrong-key-1' } })).status).toBe(401);
    const ok = await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer scrape-key-1' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/helios_gateway_inflight_body_bytes/);
    // Probes stay open.
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
  });

  it('is open with metrics.auth none, and keyed with metrics.auth key even when API-key auth is off', async () => {
    h = await startHarness(transport, { auth }, { metricsConfig: { auth: 'none' } });
    expect((await fetch(`${h.url}/metrics`)).status).toBe(200);
    await h.gateway.stop();
    h = await startHarness(transport, {}, { metricsConfig: { auth: 'key', keys: ['scrape-key-1'] } });
    expect((await fetch(`${h.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer scrape-key-1' } })).status).toBe(200);
  });
});
