import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventInput, HeliosConfig, IncidentReport, Logger } from '@helios/core';
import { startHelios } from './app.js';
import { DEMO_SERVICES, postEvents, seededRandom, trafficMinute, type IncidentSpec } from './traffic.js';

export interface DemoOptions {
  config: HeliosConfig;
  baseDir: string;
  logger: Logger;
  /** Where progress lines go. */
  print: (line: string) => void;
  hours?: number;
}

export interface DemoResult {
  report: IncidentReport;
  reportPath: string | undefined;
  eventsSent: number;
  anomalies: number;
}

/**
 * `helios demo`: starts Helios on embedded defaults in <dataDir>/demo, replays hours of normal traffic
 * for three services over real HTTP (event time runs fast; detection works in event time), injects an
 * incident into one of them, and waits for the incident report.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { print } = options;
  const dataDir = join(options.config.dataDir, 'demo');
  await rm(dataDir, { recursive: true, force: true }); // the demo's own folder: every run starts clean
  const config: HeliosConfig = { ...options.config, dataDir, gateway: { ...options.config.gateway, otlpPort: -1, otlpGrpcPort: -1 } };
  const reports: IncidentReport[] = [];
  let notify: (() => void) | undefined;
  const app = await startHelios({ config, baseDir: options.baseDir, logger: options.logger, onReport: (r) => { reports.push(r); notify?.(); } });
  try {
    print(`Helios is up on http://127.0.0.1:${app.port} (${app.transport === 'uws' ? 'uWebSockets.js' : 'node:http'}, in-process bus, PGlite in ${dataDir})`);
    const hours = options.hours ?? 5;
    const minutes = hours * 60;
    const start = Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000;
    const incident: IncidentSpec = { service: 'checkout', kind: 'error-burst', startMinute: minutes - 45, minutes: 12 };
    const random = seededRandom(7);
    let sent = 0;
    let batch: EventInput[] = [];
    print(`Sending ${hours} h of normal traffic for ${DEMO_SERVICES.map((s) => s.service).join(', ')} (event time compressed), then an incident in ${incident.service}...`);
    for (let m = 0; m < minutes; m++) {
      if (m === incident.startMinute) print(`Injecting an incident at ${new Date(start + m * 60_000).toISOString().slice(11, 16)} UTC: ${incident.kind} in ${incident.service} for ${incident.minutes} min`);
      batch.push(...trafficMinute(DEMO_SERVICES, start + m * 60_000, random, incident, start));
      if (batch.length >= 2000 || m === minutes - 1) {
        await postEvents(`http://127.0.0.1:${app.port}`, batch);
        sent += batch.length;
        batch = [];
      }
    }
    print(`Sent ${sent.toLocaleString('en-US')} events over HTTP. Waiting for detection and the report...`);
    await app.flushDetection();
    const deadline = Date.now() + 60_000;
    while (!reports.some((r) => r.service === incident.service) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        notify = resolve;
        setTimeout(resolve, 500).unref();
      });
    }
    await app.settle();
    const report = reports.find((r) => r.service === incident.service);
    if (report === undefined) throw new Error(`no incident report for ${incident.service} within 60 s (reports: ${reports.map((r) => r.service).join(', ') || 'none'})`);
    const anomalies = (await app.store.listAnomalies({ limit: 100 })).items.length;
    return { report, reportPath: report.deliveries.find((d) => d.location !== undefined)?.location, eventsSent: sent, anomalies };
  } finally {
    await app.stop();
  }
}
