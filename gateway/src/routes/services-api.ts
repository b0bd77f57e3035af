import type { ApiRoute } from './api-route.js';
import { json, storeOf, timeRange, type ReadApiContext } from './events-api.js';
import { parseQueryParams, type ParamSpecs } from './query-params.js';
import { ERROR_RESPONSES, SERVICE_CONTEXT, SERVICE_LIST, SERVICE_SERIES } from './schemas.js';

const HOUR = 3_600_000;
const TENANT_PARAM = { kind: 'string', description: 'With auth off: only this tenant (list: default every tenant; series: default `default`). With auth on: the key\'s tenant, or 400.' } as const;

/** GET /api/v1/services and /api/v1/services/{service}/series: what the console's service list and charts read, from the per-minute rollups. */
export function createServicesApi(ctx: ReadApiContext): { routes: ApiRoute[] } {
  const listParams: ParamSpecs = { tenant: TENANT_PARAM };
  const list: ApiRoute = {
    path: '/api/v1/services', name: 'services', tag: 'services', query: listParams,
    summary: 'Services with their last hour: rate, error rate, p95 and a per-minute series',
    description: 'From the per-minute rollups (as fresh as the last maintenance run) and the anomalies table; `detectorState` is each series\' detection state (learning or active, windows seen, threshold, time to the first verdict), requests, dependencies, logs and metric series alike: live when the detect role runs in this process, else as saved by the detect worker owning the service.',
    responses: { 200: { description: 'Services, per tenant', content: { 'application/json': { schema: SERVICE_LIST } } }, ...ERROR_RESPONSES },
    async handle(request) {
      const p = parseQueryParams(request.query, listParams, ctx.now());
      const store = storeOf(ctx);
      const tenant = ctx.tenantOf(request, p['tenant'] as string | undefined);
      const to = ctx.now();
      const from = to - HOUR;
      const scope = tenant === undefined ? {} : { tenant };
      const [services, states] = await Promise.all([store.serviceOverview({ from, to, ...scope }), store.detectorSeriesStates(scope)]);
      const stateOf = new Map(states.map((s) => [JSON.stringify([s.tenant, s.service]), s]));
      return json(200, { from, to, items: services.map((s) => ({ ...s, detectorState: stateOf.get(JSON.stringify([s.tenant, s.service])) ?? null })) });
    },
  };

  const seriesParams: ParamSpecs = {
    from: { kind: 'time', description: 'Start, inclusive: epoch ms, ISO 8601 or a span before now (15m, 2h, 7d). Default: one hour before `to`.' },
    to: { kind: 'time', description: 'End, exclusive. Default: now.' },
    tenant: TENANT_PARAM,
  };
  const series: ApiRoute = {
    path: '/api/v1/services/{service}/series', name: 'service_series', tag: 'services', query: seriesParams,
    pathParams: { service: 'The service name (percent-encoded).' },
    summary: 'A service\'s per-minute rollups for charts',
    responses: { 200: { description: 'Per-minute rollups, oldest first', content: { 'application/json': { schema: SERVICE_SERIES } } }, ...ERROR_RESPONSES },
    async handle(request, path) {
      const p = parseQueryParams(request.query, seriesParams, ctx.now());
      const store = storeOf(ctx);
      // Rollups are per (tenant, service): with auth off and no tenant asked for, the default tenant's.
      const tenant = ctx.tenantOf(request, p['tenant'] as string | undefined) ?? 'default';
      const { from, to } = timeRange(ctx, p);
      const service = path['service']!;
      const items = await store.rollups({ tenant, service, from, to });
      return json(200, { tenant, service, from, to, items });
    },
  };
  const contextParams: ParamSpecs = {
    from: seriesParams['from']!,
    to: seriesParams['to']!,
    tenant: TENANT_PARAM,
  };
  const context: ApiRoute = {
    path: '/api/v1/services/{service}/context', name: 'service_context', tag: 'services', query: contextParams,
    pathParams: { service: 'The service name (percent-encoded).' },
    summary: 'Evidence of a span: totals against the span before it, top errors, endpoints, example traces',
    description: 'What an incident report is written from, for any span (the console shows it for an incident\'s anomalous window): the same store query the report runtime runs, of one tenant\'s events only.',
    responses: { 200: { description: 'The span\'s evidence', content: { 'application/json': { schema: SERVICE_CONTEXT } } }, ...ERROR_RESPONSES },
    async handle(request, path) {
      const p = parseQueryParams(request.query, contextParams, ctx.now());
      const store = storeOf(ctx);
      const tenant = ctx.tenantOf(request, p['tenant'] as string | undefined) ?? 'default';
      const { from, to } = timeRange(ctx, p);
      return json(200, await store.incidentContext({ tenant, service: path['service']!, from, to }));
    },
  };
  return { routes: [list, series, context] };
}
