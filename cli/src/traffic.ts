import { HeliosError, retry, seededRandom, type EventInput } from '@helios/core';

/** Deterministic PRNG (core's one seeded generator) so the demo and tests generate the same traffic every run. */
export { seededRandom };

export interface ServiceProfile {
  service: string;
  endpoints: string[];
  eventsPerMinute: number;
  latencyMs: number;
  errorRate: number;
}

export const INCIDENT_KINDS = ['error-burst', 'latency-regression', 'traffic-drop'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export interface IncidentSpec {
  service: string;
  kind: IncidentKind;
  /** Minutes from the start of the traffic. */
  startMinute: number;
  minutes: number;
}

export const DEMO_SERVICES: ServiceProfile[] = [
  { service: 'checkout', endpoints: ['/api/payments', '/api/cart', '/api/orders/:id'], eventsPerMinute: 120, latencyMs: 45, errorRate: 0.01 },
  { service: 'catalog', endpoints: ['/api/products', '/api/products/:id', '/api/search'], eventsPerMinute: 200, latencyMs: 25, errorRate: 0.005 },
  { service: 'accounts', endpoints: ['/api/login', '/api/users/:id'], eventsPerMinute: 80, latencyMs: 60, errorRate: 0.008 },
];

/** Log-normal-ish latency: most requests near the typical value, a long right tail. */
function latency(random: () => number, typical: number): number {
  const u = Math.max(random(), 1e-9);
  const v = random();
  const gaussian = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.round(typical * Math.exp(0.35 * gaussian) * 10) / 10;
}

/**
 * One minute of a service's traffic as Helios JSON events, with gentle daily seasonality and noise;
 * inside an incident the minute is distorted according to its kind.
 */
export function minuteOfTraffic(profile: ServiceProfile, minuteStart: number, random: () => number, incident?: IncidentKind): EventInput[] {
  const hour = new Date(minuteStart).getUTCHours() + new Date(minuteStart).getUTCMinutes() / 60;
  const seasonal = 1 + 0.03 * Math.sin(((hour - 6) / 24) * 2 * Math.PI);
  let n = Math.round(profile.eventsPerMinute * seasonal * (0.92 + 0.16 * random()));
  if (incident === 'traffic-drop') n = Math.round(n * 0.1);
  const events: EventInput[] = [];
  for (let i = 0; i < n; i++) {
    const endpoint = profile.endpoints[Math.floor(random() * profile.endpoints.length)]!;
    const hit = incident !== undefined && endpoint === profile.endpoints[0];
    let failed = random() < profile.errorRate;
    let ms = latency(random, profile.latencyMs);
    let errorCode: string | undefined = failed ? 'UPSTREAM_5XX' : undefined;
    let message = failed ? 'upstream returned 502' : `${endpoint} served`;
    if (hit && incident === 'error-burst' && random() < 0.6) {
      failed = true;
      ms = latency(random, profile.latencyMs * 25);
      errorCode = 'DB_TIMEOUT';
      message = 'database connection timeout after 5000 ms (pool exhausted)';
    } else if (hit && incident === 'latency-regression') {
      ms = latency(random, profile.latencyMs * 12);
    }
    events.push({
      timestamp: minuteStart + Math.floor(random() * 60_000),
      service: profile.service,
      level: failed ? 'ERROR' : 'INFO',
      kind: 'event',
      message,
      endpoint,
      latency_ms: ms,
      status_code: failed ? (errorCode === 'DB_TIMEOUT' ? 504 : 502) : 200,
      ...(errorCode !== undefined ? { error_code: errorCode } : {}),
      ...(failed ? { trace_id: Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('') } : {}),
    });
  }
  return events;
}

/**
 * `count` service profiles: the demo's three first, then made-up ones (`service-4`, …) with their own
 * rates and latencies, so `helios simulate --services 10` still has a realistic mix.
 */
export function serviceProfiles(count: number): ServiceProfile[] {
  return Array.from({ length: count }, (_, i) => DEMO_SERVICES[i] ?? {
    service: `service-${i + 1}`,
    endpoints: [`/api/v1/items`, `/api/v1/items/:id`, `/api/v1/jobs`],
    eventsPerMinute: 40 + ((i * 37) % 160),
    latencyMs: 20 + ((i * 13) % 80),
    errorRate: 0.005 + ((i * 3) % 10) / 1000,
  });
}

/**
 * Traffic of every profile, minute by minute from `minuteStart` on (epoch ms, whole minutes), with the
 * incident's service distorted during the incident's minutes (counted from `origin`, the plan's first
 * minute). The one generator behind the demo, `helios simulate` and the end-to-end tests.
 */
export function trafficMinute(profiles: readonly ServiceProfile[], minuteStart: number, random: () => number, incident?: IncidentSpec, origin = minuteStart): EventInput[] {
  const m = Math.round((minuteStart - origin) / 60_000);
  const events: EventInput[] = [];
  for (const profile of profiles) {
    const inIncident = incident !== undefined && profile.service === incident.service && m >= incident.startMinute && m < incident.startMinute + incident.minutes;
    events.push(...minuteOfTraffic(profile, minuteStart, random, inIncident ? incident.kind : undefined));
  }
  return events;
}

/**
 * POST events as Helios JSON. Backpressure (429 bus full, 503 at the body budget or not ready) is Helios
 * asking the sender to wait, not an error: the same body is sent again after the answer's Retry-After, for
 * up to `maxAttempts` sends (with the gateway's 1 s Retry-After, about two minutes), as the SDK and OTLP
 * exporters do. Any other status, or backpressure that outlasts that, is an error naming the status and
 * Helios's answer.
 */
export async function postEvents(baseUrl: string, events: readonly EventInput[], apiKey?: string, maxAttempts = 120): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey !== undefined) headers['authorization'] = `Bearer ${apiKey}`;
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/events`;
  const body = JSON.stringify(events);
  const outcome = await retry<void>(async () => {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body });
    } catch (err) {
      return { status: 'failure', error: new HeliosError('HLS_ERR_USAGE', `could not reach Helios at ${baseUrl}: ${(err as Error).message}`, { cause: err }) };
    }
    if (res.status === 202) return { status: 'success', value: undefined };
    const error = new HeliosError('HLS_ERR_USAGE', `Helios at ${baseUrl} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
    if (res.status !== 429 && res.status !== 503) return { status: 'failure', error };
    const retryAfter = res.headers.get('retry-after');
    const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
    return { status: 'retryable', error, ...(Number.isFinite(seconds) && seconds >= 0 ? { retryInMs: seconds * 1000 } : {}) };
  }, { policy: { initialMs: 250, maxMs: 5_000 }, maxAttempts });
  if (outcome.status !== 'success') throw outcome.error;
}
