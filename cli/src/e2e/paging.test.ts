import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, silentLogger, type EventInput, type IncidentRecord } from '@helios/core';
import { verifyWebhookSignature, type WebhookPayload } from '@helios/reporter-webhook';
import { start as startPagerDuty } from '@helios/reporter-pagerduty/conformance-server';
import { startHelios, type HeliosApp } from '../app.js';
import { DEMO_SERVICES, minuteOfTraffic, seededRandom } from '../traffic.js';

const SECRET = 'e2e-webhook-secret-0123';

/**
 * Paging end to end over real HTTP: an error burst in `checkout` goes in through the gateway; the incident is
 * opened and paged (a signed webhook and a PagerDuty trigger, both to local stand-ins checking the wire format),
 * then, with the service back to normal, resolved by the detector and delivered as resolved to both.
 */
describe('paging end to end', () => {
  let app: HeliosApp;
  let pagerDuty: Awaited<ReturnType<typeof startPagerDuty>>;
  const hooks: Array<{ payload: WebhookPayload; valid: boolean }> = [];
  let closeReceiver: () => Promise<void>;

  beforeAll(async () => {
    const receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        hooks.push({ payload: JSON.parse(raw) as WebhookPayload, valid: verifyWebhookSignature(SECRET, req.headers['x-helios-signature'] as string, raw).valid });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    closeReceiver = () => new Promise<void>((r) => receiver.close(() => r()));
    pagerDuty = await startPagerDuty();
    const dir = mkdtempSync(join(tmpdir(), 'helios-paging-'));
    const config = resolveConfig({
      dataDir: dir,
      gateway: { host: '127.0.0.1', port: 0, otlpPort: -1 },
      plugins: {
        detectors: [{ use: '@helios/detector-isolation-forest' }],
        reporters: [
          { use: '@helios/reporter-template' },
          { use: '@helios/reporter-webhook', options: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, secret: SECRET } },
          { use: '@helios/reporter-pagerduty', options: pagerDuty.options },
        ],
      },
    });
    app = await startHelios({ config, baseDir: dir, logger: silentLogger() });
  });
  afterAll(async () => {
    await app?.stop();
    await pagerDuty?.close();
    await closeReceiver?.();
  });

  it('pages the incident, then delivers its resolution by the detector to every paging reporter; a silenced service is recorded, not paged', async () => {
    // catalog is in maintenance: its incident must be stored and reported, but page nobody.
    const silenceResponse = await fetch(`http://127.0.0.1:${app.port}/api/v1/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'catalog', endsAt: Date.now() + 3_600_000, comment: 'catalog reindex' }) });
    expect(silenceResponse.status).toBe(201);
    const silence = (await silenceResponse.json()) as { id: string };
    const random = seededRandom(11);
    const minutes = 200;
    const start = Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000;
    for (let m = 0; m < minutes; m += 10) {
      const batch: EventInput[] = [];
      for (let k = m; k < m + 10; k++) {
        for (const profile of DEMO_SERVICES) batch.push(...minuteOfTraffic(profile, start + k * 60_000, random, (profile.service === 'checkout' && k >= 160 && k < 172) || (profile.service === 'catalog' && k >= 175 && k < 187) ? 'error-burst' : undefined));
      }
      const res = await fetch(`http://127.0.0.1:${app.port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
      expect(res.status).toBe(202);
    }
    await app.flushDetection();
    const incidentOpenedAt = start + 160 * 60_000;
    const checkoutIncident = () => hooks.find((h) => h.payload.type === 'incident.opened' && h.payload.incident.service === 'checkout' && Date.parse(h.payload.incident.openedAt) >= incidentOpenedAt);
    for (let i = 0; i < 300; i++) {
      const opened = checkoutIncident();
      if (opened !== undefined && hooks.some((h) => h.payload.type === 'incident.resolved' && h.payload.incident.id === opened.payload.incident.id)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await app.settle();

    const opened = checkoutIncident();
    expect(opened, 'the checkout incident was paged through the webhook').toBeDefined();
    const id = opened!.payload.incident.id;
    const resolved = hooks.find((h) => h.payload.type === 'incident.resolved' && h.payload.incident.id === id);
    expect(resolved?.payload).toMatchObject({ type: 'incident.resolved', incident: { id, status: 'resolved', resolvedBy: 'detector' } });
    expect(hooks.every((h) => h.valid)).toBe(true);
    // PagerDuty: a trigger and a resolve on the same dedup_key, each accepted by the stand-in's validation (202).
    const pd = (pagerDuty.received as Array<{ event_action: string; dedup_key: string }>).filter((e) => e.dedup_key === id);
    expect(pd.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);

    // The API tells the same story.
    const incident = (await (await fetch(`http://127.0.0.1:${app.port}/api/v1/incidents/${id}`)).json()) as IncidentRecord;
    expect(incident).toMatchObject({ id, service: 'checkout', status: 'resolved', resolvedBy: 'detector', resolutionDeliveredAt: expect.any(Number), reportId: expect.any(String) });
    const anomalies = (await (await fetch(`http://127.0.0.1:${app.port}/api/v1/anomalies?service=checkout&limit=50`)).json()) as { items: Array<{ id: string; status?: string; reportId?: string }> };
    expect(anomalies.items.find((a) => a.id === id)).toMatchObject({ status: 'resolved', reportId: incident.reportId });

    // The silenced service: incident and report stored, the paging reporters held back and saying why.
    const catalog = ((await (await fetch(`http://127.0.0.1:${app.port}/api/v1/incidents?service=catalog`)).json()) as { items: IncidentRecord[] }).items;
    expect(catalog.length).toBeGreaterThan(0);
    expect(catalog.every((i) => i.silencedBy === silence.id)).toBe(true);
    expect(hooks.filter((h) => h.payload.incident.service === 'catalog')).toEqual([]);
    expect((pagerDuty.received as Array<{ dedup_key: string }>).filter((e) => catalog.some((i) => i.id === e.dedup_key))).toEqual([]);
    const report = (await (await fetch(`http://127.0.0.1:${app.port}/api/v1/reports/${catalog[0]!.reportId}`)).json()) as { deliveries: Array<{ reporter: string; status: string; error?: string }> };
    expect(report.deliveries.map((d) => [d.reporter, d.status])).toEqual([['@helios/reporter-webhook', 'silenced'], ['@helios/reporter-pagerduty', 'silenced']]);
    expect(report.deliveries[0]!.error).toContain('catalog reindex');
  }, 180_000);
});
