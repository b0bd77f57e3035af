import { HeliosError, INCIDENT_STATUSES, Topics, busKey, newEventId, type AnomalyTopicRecord, type Bus, type IncidentRecord, type IncidentResolution, type IncidentStatus } from '@helios/core';
import type { IncidentWriter, StoreReader } from '@helios/store';
import type { KeyIdentity } from '../auth.js';
import type { GatewayRequest, GatewayResponse, RequestHeaders } from '../http/transport.js';

/** The store as the incident API needs it: reads, and the lifecycle writes when this process may write. */
export type IncidentApiStore = StoreReader & Partial<IncidentWriter>;

export interface IncidentsApiOptions {
  store: IncidentApiStore | undefined;
  bus: Bus;
  /** Whether keys scope reads and writes to their tenant (auth on); off, every tenant is served. */
  authEnabled: boolean;
  identify: (headers: RequestHeaders) => KeyIdentity;
  now: () => number;
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });
const json = (status: number, body: unknown): GatewayResponse => ({ status, headers: JSON_HEADERS, body: JSON.stringify(body) });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INCIDENT_PATH = /^\/api\/v1\/incidents\/([^/]+)(?:\/(ack|resolve|feedback))?$/;
const SILENCE_PATH = /^\/api\/v1\/silences\/([^/]+)$/;
/** Longest silence: a maintenance window, not a way to switch paging off for good. */
const MAX_SILENCE_MS = 31 * 86_400_000;

/**
 * The query parameters of a request, each checked: an unknown one is refused naming it (a typo such as
 * `?servce=` must not silently return everything), a repeated one too.
 */
export function readQuery(query: string, allowed: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (!allowed.includes(name)) throw new HeliosError('HLS_ERR_QUERY_INVALID', `${name}: unknown query parameter; expected one of ${allowed.join(', ')}`);
    if (params.has(name)) throw new HeliosError('HLS_ERR_QUERY_INVALID', `${name}: given more than once`);
    params.set(name, value);
  }
  return params;
}

/** `limit` of a list: an integer from 1 to 500, or undefined (the store's default). */
export function readLimit(params: Map<string, string>): number | undefined {
  const text = params.get('limit');
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || !(limit >= 1 && limit <= 500)) throw new HeliosError('HLS_ERR_QUERY_INVALID', `limit: expected an integer from 1 to 500, got ${JSON.stringify(text)}`);
  return limit;
}

function readBody(request: GatewayRequest, allowEmpty: boolean): Record<string, unknown> {
  const text = request.body.toString('utf8').trim();
  if (text === '') {
    if (allowEmpty) return {};
    throw new HeliosError('HLS_ERR_BODY_EMPTY', 'send a JSON object');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HeliosError('HLS_ERR_BODY_MALFORMED', `body is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HeliosError('HLS_ERR_REQUEST_INVALID', 'body: expected a JSON object');
  return value as Record<string, unknown>;
}

function refuseUnknownFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new HeliosError('HLS_ERR_REQUEST_INVALID', `${unknown[0]}: unknown field; expected ${allowed.length === 0 ? 'none' : `one of ${allowed.join(', ')}`}`);
}

/** A time as epoch ms or an RFC 3339 string. */
function readTime(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new HeliosError('HLS_ERR_REQUEST_INVALID', `${field}: expected epoch milliseconds or an RFC 3339 time, got ${JSON.stringify(value)}`);
  return ms;
}

function readText(body: Record<string, unknown>, field: string, max: number, required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || (required && value.trim() === '') || value.length > max) throw new HeliosError('HLS_ERR_REQUEST_INVALID', `${field}: expected ${required ? 'a non-empty ' : 'a '}string of at most ${max} characters, got ${JSON.stringify(value)?.slice(0, 100)}`);
  return value;
}

/**
 * The incident and silence API: `GET /api/v1/incidents`, `GET /api/v1/incidents/:id`, `POST …/ack`,
 * `POST …/resolve`, `POST …/feedback`, `GET|POST /api/v1/silences`, `DELETE /api/v1/silences/:id`.
 * With auth on, every read and write is of the key's tenant: another tenant's incident or silence is
 * not found (ids of other tenants are not confirmed). A resolution through the API is stored, then
 * published on the anomalies topic so the report runtime delivers it to the reporters.
 */
export function createIncidentsApi(options: IncidentsApiOptions) {
  const { bus, now } = options;

  /** The caller, and the tenant scope of what it reads and writes (undefined: every tenant, auth off). */
  function caller(request: GatewayRequest): { scope: string | undefined; keyName: string; tenant: string } {
    const identity = options.identify(request.headers);
    return { scope: options.authEnabled ? identity.tenant : undefined, keyName: identity.keyName, tenant: identity.tenant };
  }

  function readStore(): IncidentApiStore {
    if (options.store === undefined) throw new HeliosError('HLS_ERR_NOT_FOUND', 'this process serves no store API (run the api or all-in-one role)');
    return options.store;
  }

  function writeStore(): Required<IncidentApiStore> {
    const store = readStore();
    if (typeof store.resolveIncident !== 'function') throw new HeliosError('HLS_ERR_NOT_FOUND', 'this process cannot change incidents (its store is read-only)');
    return store as Required<IncidentApiStore>;
  }

  function found(incident: IncidentRecord | undefined, id: string): IncidentRecord {
    if (incident === undefined) throw new HeliosError('HLS_ERR_NOT_FOUND', `no incident ${id}`);
    return incident;
  }

  async function listIncidents(request: GatewayRequest): Promise<GatewayResponse> {
    const { scope } = caller(request);
    const params = readQuery(request.query, ['limit', 'before', 'service', 'status']);
    const status = params.get('status');
    if (status !== undefined && !(INCIDENT_STATUSES as readonly string[]).includes(status)) throw new HeliosError('HLS_ERR_QUERY_INVALID', `status: expected one of ${INCIDENT_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
    const before = params.get('before');
    if (before !== undefined && !/^\d+_[0-9a-f-]{36}$/.test(before)) throw new HeliosError('HLS_ERR_QUERY_INVALID', `before: not a cursor from a previous page, got ${JSON.stringify(before)}`);
    const service = params.get('service');
    if (service === '') throw new HeliosError('HLS_ERR_QUERY_INVALID', 'service: must not be empty');
    const limit = readLimit(params);
    const page = await readStore().listIncidents({
      ...(limit === undefined ? {} : { limit }), ...(before === undefined ? {} : { before }), ...(service === undefined ? {} : { service }),
      ...(status === undefined ? {} : { status: status as IncidentStatus }), ...(scope === undefined ? {} : { tenant: scope }),
    });
    return json(200, { items: page.items, next: page.nextCursor ?? null });
  }

  async function incidentAction(request: GatewayRequest, id: string, action: 'ack' | 'resolve' | 'feedback' | undefined): Promise<GatewayResponse> {
    const who = caller(request);
    const scope = who.scope === undefined ? {} : { tenant: who.scope };
    if (action === undefined) {
      readQuery(request.query, []);
      return json(200, found(UUID.test(id) ? await readStore().getIncident(id, scope) : undefined, id));
    }
    const store = writeStore();
    if (!UUID.test(id)) throw new HeliosError('HLS_ERR_NOT_FOUND', `no incident ${id}`);
    if (action === 'ack') {
      refuseUnknownFields(readBody(request, true), []);
      return json(200, found(await store.acknowledgeIncident(id, { by: who.keyName, at: now(), ...scope }), id));
    }
    if (action === 'resolve') {
      refuseUnknownFields(readBody(request, true), []);
      const incident = found(await store.resolveIncident(id, { by: who.keyName, at: now(), ...scope }), id);
      // The report runtime hands it to the reporters (once: it records that it did). Published after the
      // store write, so a 200 means the incident is resolved even if the reporters hear of it later.
      if (incident.resolutionDeliveredAt === undefined) {
        const resolution: IncidentResolution = { kind: 'incident-resolved', incidentId: incident.id, tenant: incident.tenant, service: incident.service, resolvedAt: incident.resolvedAt ?? now(), by: incident.resolvedBy ?? who.keyName };
        await bus.publish<AnomalyTopicRecord>(Topics.anomalies, [{ key: busKey(resolution), value: resolution }]);
      }
      return json(200, incident);
    }
    const body = readBody(request, false);
    refuseUnknownFields(body, ['rating', 'comment']);
    const rating = body['rating'];
    if (rating !== 'up' && rating !== 'down') throw new HeliosError('HLS_ERR_REQUEST_INVALID', `rating: expected "up" (👍) or "down" (👎), got ${JSON.stringify(rating)}`);
    const comment = readText(body, 'comment', 2000, false);
    return json(200, found(await store.setIncidentFeedback(id, { rating, ...(comment === undefined ? {} : { comment }), by: who.keyName, at: now() }, scope), id));
  }

  async function listSilences(request: GatewayRequest): Promise<GatewayResponse> {
    const { scope } = caller(request);
    const params = readQuery(request.query, ['service', 'active']);
    const active = params.get('active');
    if (active !== undefined && active !== 'true' && active !== 'false') throw new HeliosError('HLS_ERR_QUERY_INVALID', `active: expected true or false, got ${JSON.stringify(active)}`);
    const service = params.get('service');
    const at = now();
    const items = await readStore().listSilences({ ...(scope === undefined ? {} : { tenant: scope }), ...(service === undefined ? {} : { service }), ...(active === 'true' ? { activeAt: at } : {}) });
    return json(200, { items: active === 'false' ? items.filter((s) => !(s.startsAt <= at && at < s.endsAt)) : items });
  }

  async function createSilence(request: GatewayRequest): Promise<GatewayResponse> {
    const who = caller(request);
    const store = writeStore();
    readQuery(request.query, []);
    const body = readBody(request, false);
    refuseUnknownFields(body, ['service', 'startsAt', 'endsAt', 'comment', ...(options.authEnabled ? [] : ['tenant'])]);
    const service = readText(body, 'service', 200, true)!;
    const createdAt = now();
    const startsAt = readTime(body, 'startsAt') ?? createdAt;
    const endsAt = readTime(body, 'endsAt');
    if (endsAt === undefined) throw new HeliosError('HLS_ERR_REQUEST_INVALID', 'endsAt: required (epoch milliseconds or an RFC 3339 time)');
    if (endsAt <= startsAt) throw new HeliosError('HLS_ERR_REQUEST_INVALID', `endsAt: must be after startsAt (${new Date(startsAt).toISOString()}), got ${new Date(endsAt).toISOString()}`);
    if (endsAt <= createdAt) throw new HeliosError('HLS_ERR_REQUEST_INVALID', `endsAt: already past (${new Date(endsAt).toISOString()})`);
    if (endsAt - startsAt > MAX_SILENCE_MS) throw new HeliosError('HLS_ERR_REQUEST_INVALID', `endsAt: a silence lasts at most 31 days, this one ${Math.ceil((endsAt - startsAt) / 86_400_000)}`);
    // Auth off there is no key tenant: the silence names its tenant (default `default`, as events without a key get).
    const tenant = options.authEnabled ? who.tenant : (readText(body, 'tenant', 200, false) ?? who.tenant);
    const silence = await store.createSilence({ id: newEventId(), tenant, service, startsAt, endsAt, comment: readText(body, 'comment', 2000, false) ?? '', createdBy: who.keyName, createdAt });
    return json(201, silence);
  }

  async function deleteSilence(request: GatewayRequest, id: string): Promise<GatewayResponse> {
    const { scope } = caller(request);
    readQuery(request.query, []);
    if (!(await writeStore().deleteSilence(id, scope === undefined ? {} : { tenant: scope }))) throw new HeliosError('HLS_ERR_NOT_FOUND', `no silence ${id}`);
    return { status: 204 };
  }

    /** A path segment decoded; a malformed escape names no incident or silence. */
  function segment(raw: string): string {
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }

  /** The route's name and answer, or undefined when the path is none of this API's. */
  function route(request: GatewayRequest): Promise<[string, GatewayResponse]> | undefined {
    const { method, path } = request;
    const only = (allowed: string, name: string, run: () => Promise<GatewayResponse>): Promise<[string, GatewayResponse]> => {
      if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) return Promise.reject(new HeliosError('HLS_ERR_METHOD_NOT_ALLOWED', `use ${allowed} for ${path}`));
      return run().then((r) => [name, r]);
    };
    if (path === '/api/v1/incidents') return only('GET', 'incidents', () => listIncidents(request));
    if (path === '/api/v1/silences') {
      if (method === 'POST') return createSilence(request).then((r) => ['silences', r]);
      return only('GET', 'silences', () => listSilences(request));
    }
    const incident = INCIDENT_PATH.exec(path);
    if (incident !== null) {
      const action = incident[2] as 'ack' | 'resolve' | 'feedback' | undefined;
      return only(action === undefined ? 'GET' : 'POST', action === undefined ? 'incident' : `incident-${action}`, () => incidentAction(request, segment(incident[1]!), action));
    }
    const silence = SILENCE_PATH.exec(path);
    if (silence !== null) return only('DELETE', 'silence', () => deleteSilence(request, segment(silence[1]!)));
    return undefined;
  }

  return { route };
}
