import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeliosError, resolveConfig, silentLogger, type IncidentReport } from '@helios/core';
import { startHelios, type HeliosApp } from '../app.js';
import { runSimulation } from '../simulate.js';
import { incidentFlags } from '../commands/simulate.js';

/**
 * `helios simulate` against a running Helios (embedded, port 0): compressed history gives the detector its
 * training windows, live traffic carries current timestamps so windows close as time passes, and the
 * incident switch distorts one service. The anomaly and the report are of that service only.
 */
describe('helios simulate against a running Helios', () => {
  let app: HeliosApp;
  const reports: IncidentReport[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-simulate-'));
    const config = resolveConfig({ dataDir: dir, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1 } });
    app = await startHelios({ config, baseDir: dir, logger: silentLogger(), onReport: (r) => reports.push(r) });
  });
  afterAll(() => app?.stop());

  it('history + an incident switch -> an anomaly and a report for that service only, with live timestamps', async () => {
    const startedAt = Date.now();
    const result = await runSimulation({
      url: `http://127.0.0.1:${app.port}`, services: 3, historyMinutes: 240, liveMs: 3000, tickMs: 500,
      incident: { kind: 'error-burst', service: 'catalog', startMinute: -30, minutes: 12 },
    });
    expect(result.services).toEqual(['checkout', 'catalog', 'accounts']);
    expect(result.historyEvents).toBeGreaterThan(240 * 300);
    expect(result.liveEvents).toBeGreaterThan(0);
    // Live events carry the current time: the newest stored event is from the test's own seconds.
    for (let i = 0; i < 100 && (await app.store.latestEventTime('default', 'catalog') ?? 0) < startedAt; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await app.store.latestEventTime('default', 'catalog')).toBeGreaterThanOrEqual(startedAt);
    expect(await app.store.latestEventTime('default', 'catalog')).toBeLessThanOrEqual(Date.now());

    for (let i = 0; i < 300 && !reports.some((r) => r.service === 'catalog'); i++) await new Promise((r) => setTimeout(r, 100));
    await app.settle();
    const anomalies = (await app.store.listAnomalies({ limit: 100 })).items;
    expect(anomalies.length).toBeGreaterThan(0);
    expect(new Set(anomalies.map((a) => a.service))).toEqual(new Set(['catalog']));
    const inIncident = anomalies.filter((a) => a.windowEnd > result.incident!.from && a.windowStart < result.incident!.to);
    expect(inIncident.length).toBeGreaterThan(0);
    expect(new Set(reports.map((r) => r.service))).toEqual(new Set(['catalog']));
    expect(reports.find((r) => r.markdown.includes('DB_TIMEOUT'))).toBeDefined();
  }, 120_000);

  it('refuses incident flags that do not fit, naming the flag', () => {
    const services = ['checkout', 'catalog'];
    expect(() => incidentFlags({ incident: 'meltdown' }, services)).toThrow(/--incident must be one of error-burst, latency-regression, traffic-drop, got "meltdown"/);
    expect(() => incidentFlags({ incident: 'error-burst', 'incident-service': 'billing' }, services)).toThrow(/--incident-service "billing" is not one of the simulated services/);
    expect(() => incidentFlags({ 'incident-start': '3' }, services)).toThrow(/--incident-start needs --incident/);
    expect(() => incidentFlags({ incident: 'traffic-drop', 'incident-duration': '0' }, services)).toThrow(HeliosError);
    expect(incidentFlags({ incident: 'traffic-drop', 'incident-start': '-20' }, services)).toEqual({ kind: 'traffic-drop', service: 'checkout', startMinute: -20, minutes: 10 });
  });
});
