import type { FeatureStream, FeatureWindow, HeliosEvent } from '@helios/core';
import { WindowAggregator } from '@helios/detection';
import { createRandom } from '@helios/core';
import { gaussian, poisson, type Uniform } from './random-draws.js';

/** Uniform [0, 1) from the forest's seeded generator (one 32-bit draw: plenty for traffic). */

/**
 * Synthetic incident suite: traffic for many services with daily seasonality and noise, and labelled
 * incidents of eight kinds. Traffic is trace-shaped: every request calls one of the service's dependencies
 * (a client span, its own series) and some write a log record (errors always do). Events are generated one
 * by one and go through the production WindowAggregator (detection/src/windows.ts), so the windows (request,
 * dependency and log series) are exactly what the detect runtime sees.
 */

export const INCIDENT_KINDS = ['error-burst', 'latency-regression', 'traffic-drop', 'endpoint-explosion', 'slow-leak', 'dependency-failure', 'dependency-slowdown', 'error-logs'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export interface IncidentLabel {
  id: string;
  tenant: string;
  service: string;
  /** What was injected; 'unlabelled' for datasets read from a file without kinds. */
  kind: IncidentKind | 'unlabelled';
  /** Event time, epoch ms: the incident affects events in [start, end). */
  start: number;
  end: number;
}

export interface LabelledWindow extends FeatureWindow {
  /** 1 when the window overlaps an incident of its series. */
  label: 0 | 1;
  incidentId?: string;
}

export interface LabelledDataset {
  name: string;
  windowMs: number;
  hopMs: number;
  /** Ordered by window end, then series. */
  windows: LabelledWindow[];
  incidents: IncidentLabel[];
}

export interface SyntheticOptions {
  seed: number;
  services?: number;
  /** Days of traffic; the first `warmupDays` carry no incidents (the detectors' history). */
  days?: number;
  warmupDays?: number;
  incidentsPerServiceDay?: number;
  windowMs?: number;
  hopMs?: number;
  /** Epoch ms of the first minute (UTC midnight, so time of day is meaningful). */
  startTime?: number;
}

interface ServiceProfile {
  service: string;
  endpoints: string[];
  /** Mean events per minute at the daily average. */
  rate: number;
  /** Daily swing of the rate (0.3 = +-30%) and the hour of the peak. */
  seasonality: number;
  peakHour: number;
  latencyMs: number;
  /** Log-normal shape of latency. */
  latencySigma: number;
  errorRate: number;
  /** Peers the service calls (one per request), with their own latency and failure rate. */
  dependencies: Array<{ peer: string; latencyMs: number; errorRate: number }>;
  /** Share of successful requests that write an INFO log record. */
  logShare: number;
}

/**
 * Which streams an incident of each kind moves, so a window is labelled only when its series is affected:
 * a dependency failure moves the calls to the peer, the requests that fail with them and their error logs;
 * error logs without request errors move the log series alone.
 */
const AFFECTS: Record<IncidentKind, ReadonlyArray<'requests' | 'dependency' | 'logs'>> = {
  'error-burst': ['requests', 'logs'],
  'latency-regression': ['requests'],
  'traffic-drop': ['requests', 'dependency', 'logs'],
  'endpoint-explosion': ['requests'],
  'slow-leak': ['requests', 'logs'],
  'dependency-failure': ['requests', 'dependency', 'logs'],
  'dependency-slowdown': ['requests', 'dependency'],
  'error-logs': ['logs'],
};

function affects(kind: IncidentKind | 'unlabelled', stream: FeatureStream | undefined, peer: string | undefined): boolean {
  if (kind === 'unlabelled') return true;
  const streamKind = stream === undefined ? 'requests' : stream.kind === 'logs' ? 'logs' : 'dependency';
  if (stream?.kind === 'dependency' && (kind === 'dependency-failure' || kind === 'dependency-slowdown') && stream.peer !== peer) return false;
  return AFFECTS[kind].includes(streamKind);
}

interface IncidentPlan extends IncidentLabel {
  /** Severity drawn per incident so the suite holds mild and strong cases. */
  magnitude: number;
  /** Endpoints the incident hits (error burst, latency regression). */
  endpoints: Set<string>;
  /** The dependency a dependency incident hits. */
  peer: string;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const NAMES = ['checkout', 'catalog', 'accounts', 'search', 'payments', 'inventory', 'shipping', 'reviews', 'pricing', 'auth', 'notifications', 'recommendations', 'cart', 'orders', 'media', 'gateway-edge'];


function profiles(random: Uniform, count: number): ServiceProfile[] {
  return Array.from({ length: count }, (_, i) => {
    const endpointCount = 3 + Math.floor(random() * 10);
    const name = NAMES[i % NAMES.length]! + (i >= NAMES.length ? `-${Math.floor(i / NAMES.length)}` : '');
    return {
      service: name,
      endpoints: Array.from({ length: endpointCount }, (_, e) => `/api/${name}/r${e}`),
      rate: Math.round(30 * Math.exp(random() * Math.log(15))), // 30 .. 450 events/min
      seasonality: 0.25 + random() * 0.4,
      peakHour: 12 + random() * 8,
      latencyMs: Math.round(15 * Math.exp(random() * Math.log(12))), // 15 .. 180 ms
      latencySigma: 0.3 + random() * 0.3,
      errorRate: 0.002 + random() * 0.02,
      dependencies: Array.from({ length: 1 + Math.floor(random() * 2) }, (_, d) => ({
        peer: `${NAMES[(i + 3 + d * 5) % NAMES.length]}-api`, latencyMs: Math.round(5 * Math.exp(random() * Math.log(10))), errorRate: 0.001 + random() * 0.005,
      })),
      logShare: 0.1 + random() * 0.2,
    };
  });
}

function planIncidents(random: Uniform, profile: ServiceProfile, from: number, to: number, perDay: number, tenant: string): IncidentPlan[] {
  const plans: IncidentPlan[] = [];
  const days = (to - from) / DAY;
  const count = Math.round(days * perDay);
  // Even slots with jitter keep incidents apart, so each is a separate, countable event.
  const slot = (to - from) / count;
  for (let i = 0; i < count; i++) {
    const kind = INCIDENT_KINDS[Math.floor(random() * INCIDENT_KINDS.length)]!;
    const minutes = kind === 'slow-leak' ? 40 + Math.floor(random() * 50) : 8 + Math.floor(random() * 25);
    const start = Math.floor(from + slot * i + slot * 0.1 + random() * (slot * 0.8 - minutes * MINUTE));
    const hit = new Set<string>();
    const hitCount = 1 + Math.floor(random() * Math.min(3, profile.endpoints.length - 1));
    while (hit.size < hitCount) hit.add(profile.endpoints[Math.floor(random() * profile.endpoints.length)]!);
    const peer = profile.dependencies[Math.floor(random() * profile.dependencies.length)]!.peer;
    plans.push({ id: `${profile.service}#${i}`, tenant, service: profile.service, kind, start, end: start + minutes * MINUTE, magnitude: random(), endpoints: hit, peer });
  }
  return plans;
}

function baseEvent(tenant: string, service: string): HeliosEvent {
  return { id: '', timestamp: 0, service, level: 'INFO', message: '', kind: 'event', endpoint: null, latency_ms: null, status_code: 200, error_code: null, trace_id: null, span_id: null, sample_rate: 1, attributes: {}, resource: {}, tenant };
}

/** A client span as the gateway stores one (span.kind, peer.name; see core/src/event/role.ts). */
function callEvent(tenant: string, service: string): HeliosEvent {
  return { ...baseEvent(tenant, service), kind: 'span', attributes: { 'span.kind': 'client', 'peer.name': '' } };
}

function logEvent(tenant: string, service: string): HeliosEvent {
  return { ...baseEvent(tenant, service), kind: 'log', status_code: null };
}

const streamOrder = (stream: FeatureStream | undefined): string => (stream === undefined ? '' : stream.kind === 'logs' ? 'logs' : `dependency:${stream.peer}`);

/** Generate the suite. Same options, same dataset (seeded, no wall clock). */
export function generateSyntheticDataset(options: SyntheticOptions): LabelledDataset {
  const services = options.services ?? 12;
  const days = options.days ?? 3;
  const warmupDays = options.warmupDays ?? 1;
  const perDay = options.incidentsPerServiceDay ?? 3;
  const windowMs = options.windowMs ?? 5 * MINUTE;
  const hopMs = options.hopMs ?? MINUTE;
  const t0 = options.startTime ?? Date.UTC(2026, 0, 5);
  const tenant = 'default';
  const generator = createRandom(options.seed);
  const random: Uniform = () => generator.nextUint32() / 4294967296;
  const fleet = profiles(random, services);
  const incidents = fleet.flatMap((p) => planIncidents(random, p, t0 + warmupDays * DAY, t0 + days * DAY, perDay, tenant));
  const byService = new Map<string, IncidentPlan[]>();
  for (const inc of incidents) byService.set(inc.service, [...(byService.get(inc.service) ?? []), inc]);

  const aggregator = new WindowAggregator({ windowMs, hopMs, allowedLatenessMs: 0, gapAfterMs: 0 });
  const windows: FeatureWindow[] = [];
  const event = fleet.map((p) => baseEvent(tenant, p.service));
  const call = fleet.map((p) => callEvent(tenant, p.service));
  const log = fleet.map((p) => logEvent(tenant, p.service));
  const totalMinutes = days * 24 * 60;
  let uniqueId = 0;
  for (let m = 0; m < totalMinutes; m++) {
    const minuteStart = t0 + m * MINUTE;
    const hour = ((minuteStart % DAY) / DAY) * 24;
    fleet.forEach((p, s) => {
      const load = 1 + p.seasonality * Math.cos(((hour - p.peakHour) / 24) * 2 * Math.PI);
      // Slow drift of the day-to-day level plus per-minute noise (Poisson).
      let mean = p.rate * load * (1 + 0.05 * Math.sin(m / 997 + s));
      const active = (byService.get(p.service) ?? []).find((inc) => inc.start < minuteStart + MINUTE && inc.end > minuteStart);
      if (active?.kind === 'traffic-drop') mean *= 0.1 + 0.35 * active.magnitude;
      const n = poisson(random, mean);
      const e = event[s]!;
      const c = call[s]!;
      const l = log[s]!;
      for (let i = 0; i < n; i++) {
        const ts = minuteStart + Math.floor(random() * MINUTE);
        const inIncident = active !== undefined && ts >= active.start && ts < active.end ? active : undefined;
        let endpoint = p.endpoints[Math.floor(random() * p.endpoints.length)]!;
        let latency = p.latencyMs * (1 + 0.15 * (load - 1)) * Math.exp(p.latencySigma * gaussian(random));
        let failed = random() < p.errorRate * (1 + 0.3 * (load - 1));
        if (random() < 0.002) latency *= 10; // benign outliers: the odd GC pause or cold cache
        if (inIncident !== undefined) {
          const k = inIncident.kind;
          const mag = inIncident.magnitude;
          if (k === 'error-burst' && inIncident.endpoints.has(endpoint) && random() < 0.3 + 0.5 * mag) {
            failed = true;
            latency *= random() < 0.5 ? 1 : 5 + 20 * mag; // half fail fast, half time out
          } else if (k === 'latency-regression' && inIncident.endpoints.has(endpoint)) {
            latency *= 2.5 + 5 * mag;
          } else if (k === 'endpoint-explosion' && random() < 0.15 + 0.4 * mag) {
            endpoint = `/api/${p.service}/items/${uniqueId++}`; // raw ids leaking into the route
          } else if (k === 'slow-leak') {
            const progress = (ts - inIncident.start) / (inIncident.end - inIncident.start);
            latency *= 1 + progress * (2 + 4 * mag);
            if (progress > 0.8 && random() < 0.1 * mag) failed = true;
          }
        }
        // The request's call to one of its dependencies; a dependency incident moves it, and the request with it.
        const dependency = p.dependencies[Math.floor(random() * p.dependencies.length)]!;
        let callLatency = dependency.latencyMs * Math.exp(0.3 * gaussian(random));
        let callFailed = random() < dependency.errorRate;
        const hitsPeer = inIncident !== undefined && inIncident.peer === dependency.peer;
        if (hitsPeer && inIncident.kind === 'dependency-failure' && random() < 0.3 + 0.5 * inIncident.magnitude) {
          callFailed = true;
          if (random() < 0.5) callLatency *= 20 + 40 * inIncident.magnitude; // half refused at once, half time out
        } else if (hitsPeer && inIncident.kind === 'dependency-slowdown') {
          callLatency *= 3 + 6 * inIncident.magnitude;
        }
        if (callFailed && random() < 0.9) failed = true; // most callers pass the failure on
        latency += callLatency;
        c.timestamp = ts;
        c.attributes['peer.name'] = dependency.peer;
        c.endpoint = `${dependency.peer} GET /items/:id`;
        c.latency_ms = Math.round(callLatency * 10) / 10;
        c.level = callFailed ? 'ERROR' : 'INFO';
        c.status_code = callFailed ? 503 : 200;
        aggregator.add(c, ts);
        // Log records: every failed request writes an ERROR, some successful ones an INFO; an error-logs
        // incident makes successful requests log errors (a failing background job, a noisy retry loop).
        const errorLog = failed || (inIncident?.kind === 'error-logs' && random() < 0.05 + 0.25 * inIncident.magnitude);
        if (errorLog || random() < p.logShare) {
          l.timestamp = ts;
          l.level = errorLog ? 'ERROR' : 'INFO';
          aggregator.add(l, ts);
        }
        e.timestamp = ts;
        e.endpoint = endpoint;
        e.latency_ms = Math.round(latency * 10) / 10;
        e.level = failed ? 'ERROR' : 'INFO';
        e.status_code = failed ? 503 : 200;
        aggregator.add(e, ts);
      }
    });
    // Every series got this minute's events; close what is complete (event time = generation time).
    for (const w of aggregator.closeUpTo(minuteStart + MINUTE)) windows.push(w);
  }

  const labelled: LabelledWindow[] = windows.map((w) => {
    const inc = (byService.get(w.service) ?? []).find((i) => i.start < w.end && i.end > w.start && affects(i.kind, w.stream, i.peer));
    return inc === undefined ? { ...w, label: 0 } : { ...w, label: 1, incidentId: inc.id };
  });
  labelled.sort((a, b) => a.end - b.end || a.service.localeCompare(b.service) || streamOrder(a.stream).localeCompare(streamOrder(b.stream)));
  return {
    name: `synthetic(seed=${options.seed}, services=${services}, days=${days}, warmup=${warmupDays})`,
    windowMs, hopMs, windows: labelled,
    incidents: incidents.map(({ id, tenant: t, service, kind, start, end }) => ({ id, tenant: t, service, kind, start, end })),
  };
}
