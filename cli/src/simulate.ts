import type { EventInput } from '@helios/core';
import { postEvents, seededRandom, serviceProfiles, trafficMinute, type IncidentKind, type IncidentSpec, type ServiceProfile } from './traffic.js';

/** An incident to inject, in minutes relative to the moment the simulation starts (negative: in the history). */
export interface SimulatedIncident {
  kind: IncidentKind;
  service: string;
  /** Minutes from now; negative places it in the compressed history (seen at once, no waiting). */
  startMinute: number;
  minutes: number;
}

export interface SimulateOptions {
  /** Base URL of a running Helios gateway, e.g. http://127.0.0.1:8080. */
  url: string;
  apiKey?: string;
  /** How many services send traffic (the demo's three first). */
  services: number;
  /** Minutes of history sent at once before the live traffic, timestamps in the past (0: none). */
  historyMinutes: number;
  /** How long the live traffic runs, in ms of wall clock (0: until `signal` aborts). */
  liveMs: number;
  incident?: SimulatedIncident;
  seed?: number;
  /** Stops the live traffic (Ctrl-C); what was generated up to then is sent. */
  signal?: AbortSignal;
  /** Most events per request; default 2,000. */
  batchSize?: number;
  /** How often live events are sent, ms; default 1,000. */
  tickMs?: number;
  now?: () => number;
  onProgress?: (p: SimulateProgress) => void;
}

export interface SimulateProgress {
  phase: 'history' | 'live';
  eventsSent: number;
  /** Event time the traffic has reached, epoch ms. */
  reached: number;
  incidentActive: boolean;
}

export interface SimulateResult {
  historyEvents: number;
  liveEvents: number;
  /** The incident's span in event time, epoch ms, when one was injected. */
  incident?: { service: string; kind: IncidentKind; from: number; to: number };
  services: string[];
}

const MINUTE = 60_000;

/**
 * `helios simulate`: traffic for N services against a running Helios with current timestamps, so windows
 * close as time passes and detection and reports happen live. Optional history (event time in the past,
 * sent at once) gives the detectors their training windows without waiting hours; the incident switch
 * distorts one service for a while. The same generator as `helios demo` (traffic.ts).
 */
export async function runSimulation(options: SimulateOptions): Promise<SimulateResult> {
  const now = options.now ?? Date.now;
  const profiles: ServiceProfile[] = serviceProfiles(options.services);
  const random = seededRandom(options.seed ?? 7);
  const batchSize = options.batchSize ?? 2000;
  const tickMs = options.tickMs ?? 1000;
  const started = now();
  const currentMinute = Math.floor(started / MINUTE) * MINUTE;
  const origin = currentMinute - options.historyMinutes * MINUTE;
  const spec: IncidentSpec | undefined = options.incident === undefined ? undefined : {
    service: options.incident.service, kind: options.incident.kind, minutes: options.incident.minutes,
    startMinute: options.historyMinutes + options.incident.startMinute,
  };
  const incidentSpan = options.incident === undefined ? undefined : {
    service: options.incident.service, kind: options.incident.kind,
    from: currentMinute + options.incident.startMinute * MINUTE, to: currentMinute + (options.incident.startMinute + options.incident.minutes) * MINUTE,
  };
  const active = (t: number) => incidentSpan !== undefined && t >= incidentSpan.from && t < incidentSpan.to;
  let sent = 0;
  const send = async (events: EventInput[]) => {
    for (let i = 0; i < events.length; i += batchSize) {
      const batch = events.slice(i, i + batchSize);
      await postEvents(options.url, batch, options.apiKey);
      sent += batch.length;
    }
  };

  // History: whole minutes before the current one, oldest first, sent as fast as Helios takes them.
  let batch: EventInput[] = [];
  for (let m = origin; m < currentMinute; m += MINUTE) {
    batch.push(...trafficMinute(profiles, m, random, spec, origin));
    if (batch.length >= batchSize || m + MINUTE >= currentMinute) {
      await send(batch);
      batch = [];
      options.onProgress?.({ phase: 'history', eventsSent: sent, reached: m + MINUTE, incidentActive: active(m) });
    }
  }
  const historyEvents = sent;

  // Live: each minute is generated when it begins; its events go out once their timestamp has passed,
  // so every event carries the current time give or take a tick.
  const endAt = options.liveMs > 0 ? started + options.liveMs : Number.POSITIVE_INFINITY;
  let pending: EventInput[] = [];
  let nextMinute = currentMinute;
  for (;;) {
    const t = Math.min(now(), endAt);
    while (nextMinute <= t) {
      pending.push(...trafficMinute(profiles, nextMinute, random, spec, origin));
      pending.sort((a, b) => Number(a.timestamp) - Number(b.timestamp));
      nextMinute += MINUTE;
    }
    const due = pending.filter((e) => Number(e.timestamp) <= t);
    pending = pending.slice(due.length);
    if (due.length > 0) await send(due);
    options.onProgress?.({ phase: 'live', eventsSent: sent, reached: t, incidentActive: active(t) });
    if (t >= endAt || options.signal?.aborted === true) break;
    await new Promise<void>((resolve) => {
      const wake = () => { clearTimeout(timer); options.signal?.removeEventListener('abort', wake); resolve(); };
      const timer = setTimeout(wake, Math.min(tickMs, endAt - t));
      options.signal?.addEventListener('abort', wake, { once: true });
    });
  }
  return { historyEvents, liveEvents: sent - historyEvents, ...(incidentSpan === undefined ? {} : { incident: incidentSpan }), services: profiles.map((p) => p.service) };
}
