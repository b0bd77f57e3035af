import { HeliosError, INCIDENT_STATUSES, Topics, busKey, newEventId, type AnomalyTopicRecord, type Bus, type IncidentAcknowledgement, type IncidentRecord, type IncidentResolution, type IncidentStatus } from '@helios/core';
import type { IncidentWriter, StoreReader } from '@helios/store';
import type { KeyIdentity } from '../auth.js';
import type { GatewayRequest, RequestHeaders } from '../http/transport.js';
import type { ApiRoute, ResponseDoc } from './api-route.js';
import { parseJsonBody, type BodySpec } from './body-fields.js';
import { json, type ReadApiContext } from './events-api.js';
import { parseQueryParams, type ParamSpecs } from './query-params.js';
import { ERROR_RESPONSES, errorResponse } from './schemas.js';

/** The store as the incident API needs it: reads, and the lifecycle writes when this process may write. */
export type IncidentApiStore = StoreReader & Partial<IncidentWriter>;

export interface IncidentsApiOptions {
  store: IncidentApiStore | undefined;
  bus: Bus;
  /** Who calls: the key's tenant and name (`anonymous` with auth off), recorded as who acted. */
  identify: (headers: RequestHeaders) => KeyIdentity;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Longest silence: a maintenance window, not a way to switch paging off for good. */
const MAX_SILENCE_MS = 31 * 86_400_000;
const DAY = 86_400_000;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonOf = (description: string, schema: Record<string, unknown>): ResponseDoc => ({ description, content: { 'application/json': { schema } } });
/** The errors a write route can answer besides the read routes' (a 400 also for a bad body field). */
const WRITE_ERRORS: Readonly<Record<string, ResponseDoc>> = {
  ...ERROR_RESPONSES,
  400: errorResponse('A query parameter or body field is unknown or invalid (HLS_ERR_QUERY_INVALID, HLS_ERR_REQUEST_INVALID; `details` names it), or the body is not a JSON object'),
};
const NO_FIELDS: BodySpec = { description: 'No fields; an empty body or `{}`.', fields: {}, optional: true };

function invalidRequest(field: string, problem: string): HeliosError {
  return new HeliosError('HLS_ERR_REQUEST_INVALID', `${field}: ${problem}`, { details: [field] });
}

/**
 * The incident and silence API: `GET /api/v1/incidents`, `GET /api/v1/incidents/{id}`, `POST …/ack`,
 * `POST …/resolve`, `POST …/feedback`, `GET|POST /api/v1/silences`, `DELETE /api/v1/silences/{id}`, as
 * ApiRoute objects (the OpenAPI document is written from them). With auth on, every read and write is of
 * the key's tenant: another tenant's incident or silence is not found (ids of other tenants are not
 * confirmed). A resolution through the API is stored, then published on the anomalies topic so the
 * report runtime delivers it to the reporters.
 */
export function createIncidentsApi(ctx: ReadApiContext, options: IncidentsApiOptions): { routes: ApiRoute[] } {
  const { bus } = options;
  const now = ctx.now;

  /** The tenant scope of a read or write (undefined: every tenant, auth off) and the name recorded as who acted. */
  function caller(request: GatewayRequest, requestedTenant?: string): { scope: string | undefined; keyName: string; tenant: string } {
    const scope = ctx.tenantOf(request, requestedTenant);
    const identity = options.identify(request.headers);
    return { scope, keyName: identity.keyName, tenant: identity.tenant };
  }
  const scoped = (scope: string | undefined) => (scope === undefined ? {} : { tenant: scope });

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

  const tenantParam = { kind: 'string', description: 'With auth off: only this tenant (default every tenant). With auth on: the key\'s tenant, or 400.' } as const;
  const listParams: ParamSpecs = {
    limit: { kind: 'integer', min: 1, max: 500, description: 'Items per page (default 50).' },
    before: { kind: 'string', maxLength: 200, description: 'The `next` of a previous page.' },
    service: { kind: 'string', description: 'Only this service.' },
    status: { kind: 'string', values: INCIDENT_STATUSES, description: 'Only incidents in this status.' },
    tenant: tenantParam,
  };
  const list: ApiRoute = {
    path: '/api/v1/incidents', name: 'incidents', tag: 'incidents', query: listParams,
    summary: 'Incidents, newest opened first',
    responses: { 200: jsonOf('A page of incidents', { type: 'object', required: ['items', 'next'], properties: { items: { type: 'array', items: ref('Incident') }, next: { type: ['string', 'null'], description: 'Pass as `before` for the next (older) page; null on the last page.' } } }), ...ERROR_RESPONSES },
    async handle(request) {
      const p = parseQueryParams(request.query, listParams, now());
      const before = p['before'] as string | undefined;
      if (before !== undefined && !/^\d+_[0-9a-f-]{36}$/.test(before)) throw new HeliosError('HLS_ERR_QUERY_INVALID', `before: not a cursor from a previous page, got ${JSON.stringify(before)}`, { details: ['before'] });
      const { scope } = caller(request, p['tenant'] as string | undefined);
      const page = await readStore().listIncidents({
        ...(p['limit'] === undefined ? {} : { limit: p['limit'] as number }), ...(before === undefined ? {} : { before }),
        ...(p['service'] === undefined ? {} : { service: p['service'] as string }), ...(p['status'] === undefined ? {} : { status: p['status'] as IncidentStatus }),
        ...scoped(scope),
      });
      return json(200, { items: page.items, next: page.nextCursor ?? null });
    },
  };

  const incidentPath = { id: 'The incident id (its opening anomaly\'s id, a UUID).' };
  const one: ApiRoute = {
    path: '/api/v1/incidents/{id}', name: 'incident', tag: 'incidents', query: {}, pathParams: incidentPath,
    summary: 'One incident: status, who acknowledged and resolved it, feedback, report and silence',
    responses: { 200: jsonOf('The incident', ref('Incident')), ...ERROR_RESPONSES },
    async handle(request, path) {
      parseQueryParams(request.query, {}, now());
      const id = path['id']!;
      const { scope } = caller(request);
      return json(200, found(UUID.test(id) ? await readStore().getIncident(id, scoped(scope)) : undefined, id));
    },
  };

  /** A POST on an incident: its query and body checked, the caller known, the id a UUID (else not found). */
  function incidentAction(action: 'ack' | 'resolve' | 'feedback', summary: string, body: BodySpec, act: (id: string, who: ReturnType<typeof caller>, fields: ReturnType<typeof parseJsonBody>) => Promise<IncidentRecord>): ApiRoute {
    return {
      method: 'POST', path: `/api/v1/incidents/{id}/${action}`, name: `incident_${action}`, tag: 'incidents', query: {}, pathParams: incidentPath, body,
      summary, responses: { 200: jsonOf('The incident after the change (unchanged when the change does not apply to its status)', ref('Incident')), ...WRITE_ERRORS },
      async handle(request, path) {
        parseQueryParams(request.query, {}, now());
        const who = caller(request);
        const fields = parseJsonBody(request, body);
        const id = path['id']!;
        if (!UUID.test(id)) throw new HeliosError('HLS_ERR_NOT_FOUND', `no incident ${id}`);
        return json(200, await act(id, who, fields));
      },
    };
  }

  const ack = incidentAction('ack', 'Acknowledge an open incident, by the key\'s name; the paging reporters are told (PagerDuty acknowledge, an Alertmanager silence, webhook incident.acknowledged)', NO_FIELDS, async (id, who) => {
    const at = now();
    const incident = found(await writeStore().acknowledgeIncident(id, { by: who.keyName, at, ...scoped(who.scope) }), id);
    // Only an acknowledgement this request made is published (not one of an incident already acknowledged
    // or resolved); after the store write, like a resolution.
    if (incident.status === 'acknowledged' && incident.acknowledgedAt === at && incident.acknowledgedBy === who.keyName) {
      const ackRecord: IncidentAcknowledgement = { kind: 'incident-acknowledged', incidentId: incident.id, tenant: incident.tenant, service: incident.service, acknowledgedAt: at, by: who.keyName };
      await bus.publish<AnomalyTopicRecord>(Topics.anomalies, [{ key: busKey(ackRecord), value: ackRecord }]);
    }
    return incident;
  });

  const resolve = incidentAction('resolve', 'Resolve an incident, by the key\'s name; the reporters are told (PagerDuty resolve, Alertmanager endsAt, webhook incident.resolved)', NO_FIELDS, async (id, who) => {
    const incident = found(await writeStore().resolveIncident(id, { by: who.keyName, at: now(), ...scoped(who.scope) }), id);
    // The report runtime hands it to the reporters (once: it records that it did). Published after the
    // store write, so a 200 means the incident is resolved even if the reporters hear of it later.
    if (incident.resolutionDeliveredAt === undefined) {
      const resolution: IncidentResolution = { kind: 'incident-resolved', incidentId: incident.id, tenant: incident.tenant, service: incident.service, resolvedAt: incident.resolvedAt ?? now(), by: incident.resolvedBy ?? who.keyName };
      await bus.publish<AnomalyTopicRecord>(Topics.anomalies, [{ key: busKey(resolution), value: resolution }]);
    }
    return incident;
  });

  const feedbackBody: BodySpec = {
    description: 'Was the page worth it? 👍 (`up`) or 👎 (`down`), stored with the incident.',
    fields: {
      rating: { kind: 'string', required: true, maxLength: 4, values: ['up', 'down'], description: '`up` (👍) or `down` (👎).' },
      comment: { kind: 'string', maxLength: 2000, description: 'Why, in a sentence.' },
    },
  };
  const feedback = incidentAction('feedback', 'Rate an incident\'s page 👍/👎', feedbackBody, async (id, who, f) => {
    const comment = f['comment'] as string | undefined;
    return found(await writeStore().setIncidentFeedback(id, { rating: f['rating'] as 'up' | 'down', ...(comment === undefined ? {} : { comment }), by: who.keyName, at: now() }, scoped(who.scope)), id);
  });

  const silenceListParams: ParamSpecs = {
    service: { kind: 'string', description: 'Only this service\'s silences.' },
    active: { kind: 'string', values: ['true', 'false'], description: '`true`: only silences in force now; `false`: only those not in force (ended or not yet started).' },
    tenant: tenantParam,
  };
  const silences: ApiRoute = {
    path: '/api/v1/silences', name: 'silences', tag: 'incidents', query: silenceListParams,
    summary: 'Silences (maintenance windows)',
    responses: { 200: jsonOf('Silences', { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Silence') } } }), ...ERROR_RESPONSES },
    async handle(request) {
      const p = parseQueryParams(request.query, silenceListParams, now());
      const { scope } = caller(request, p['tenant'] as string | undefined);
      const active = p['active'] as string | undefined;
      const at = now();
      const items = await readStore().listSilences({ ...scoped(scope), ...(p['service'] === undefined ? {} : { service: p['service'] as string }), ...(active === 'true' ? { activeAt: at } : {}) });
      return json(200, { items: active === 'false' ? items.filter((s) => !(s.startsAt <= at && at < s.endsAt)) : items });
    },
  };

  const silenceBody: BodySpec = {
    description: 'A silence: while it covers the service, paging reporters are not called; anomalies and reports are still stored.',
    fields: {
      service: { kind: 'string', required: true, maxLength: 200, description: 'The service to silence.' },
      startsAt: { kind: 'time', description: 'Start (default now).' },
      endsAt: { kind: 'time', required: true, description: 'End: after startsAt and now, at most 31 days after startsAt.' },
      comment: { kind: 'string', maxLength: 2000, description: 'Why (shown with the deliveries it held back).' },
      tenant: { kind: 'string', maxLength: 200, description: 'With auth off: the tenant (default `default`). With auth on: the key\'s tenant, or 400.' },
    },
  };
  const createSilence: ApiRoute = {
    method: 'POST', path: '/api/v1/silences', name: 'silence_create', tag: 'incidents', query: {}, body: silenceBody,
    summary: 'Silence a service for a maintenance window',
    responses: { 201: jsonOf('The silence', ref('Silence')), ...WRITE_ERRORS },
    async handle(request) {
      parseQueryParams(request.query, {}, now());
      const who = caller(request);
      const store = writeStore();
      const f = parseJsonBody(request, silenceBody);
      // Auth on, the silence is the key's tenant's; auth off there is no key tenant: the silence names its
      // tenant (default `default`, as events without a key get).
      const requested = f['tenant'] as string | undefined;
      if (who.scope !== undefined && requested !== undefined && requested !== who.scope) throw invalidRequest('tenant', 'this API key writes its own tenant only');
      const createdAt = now();
      const startsAt = (f['startsAt'] as number | undefined) ?? createdAt;
      const endsAt = f['endsAt'] as number;
      if (endsAt <= startsAt) throw invalidRequest('endsAt', `must be after startsAt (${new Date(startsAt).toISOString()}), got ${new Date(endsAt).toISOString()}`);
      if (endsAt <= createdAt) throw invalidRequest('endsAt', `already past (${new Date(endsAt).toISOString()})`);
      if (endsAt - startsAt > MAX_SILENCE_MS) throw invalidRequest('endsAt', `a silence lasts at most 31 days, this one ${Math.ceil((endsAt - startsAt) / DAY)}`);
      const tenant = who.scope ?? requested ?? who.tenant;
      const silence = await store.createSilence({ id: newEventId(), tenant, service: f['service'] as string, startsAt, endsAt, comment: (f['comment'] as string | undefined) ?? '', createdBy: who.keyName, createdAt });
      return json(201, silence);
    },
  };

  const deleteSilence: ApiRoute = {
    method: 'DELETE', path: '/api/v1/silences/{id}', name: 'silence_delete', tag: 'incidents', query: {}, pathParams: { id: 'The silence id (a UUID).' },
    summary: 'End a silence (delete it)',
    responses: { 204: { description: 'Deleted' }, ...WRITE_ERRORS },
    async handle(request, path) {
      parseQueryParams(request.query, {}, now());
      const { scope } = caller(request);
      const id = path['id']!;
      if (!(await writeStore().deleteSilence(id, scoped(scope)))) throw new HeliosError('HLS_ERR_NOT_FOUND', `no silence ${id}`);
      return { status: 204 };
    },
  };

  return { routes: [list, one, ack, resolve, feedback, silences, createSilence, deleteSilence] };
}
