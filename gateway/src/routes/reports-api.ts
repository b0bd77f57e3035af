import { HeliosError, chartDataUri, withChartImages, type Redactor } from '@helios/core';
import type { ApiRoute } from './api-route.js';
import { json, storeOf, type ReadApiContext } from './events-api.js';
import { parseQueryParams, type ParamSpecs } from './query-params.js';
import { ERROR_RESPONSES } from './schemas.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const pageOf = (item: string) => ({
  type: 'object', required: ['items', 'next'],
  properties: { items: { type: 'array', items: ref(item) }, next: { type: ['string', 'null'], description: 'Pass as `before` for the next (older) page; null on the last page.' } },
});

/**
 * GET /api/v1/anomalies, /api/v1/reports and /api/v1/reports/{id}: newest first, keyset-paged, scoped to the
 * key's tenant with auth on. Reports pass `redactor` again on the way out, so one stored before redaction
 * existed, or under other rules, leaves without secrets either (per response, not per event).
 */
export function createReportsApi(ctx: ReadApiContext, redactor: Redactor): { routes: ApiRoute[] } {
  const listParams: ParamSpecs = {
    limit: { kind: 'integer', min: 1, max: 500, description: 'Items per page (default 50).' },
    before: { kind: 'string', maxLength: 200, description: 'The `next` of a previous page.' },
    service: { kind: 'string', description: 'Only this service.' },
    tenant: { kind: 'string', description: 'With auth off: only this tenant (default every tenant). With auth on: the key\'s tenant, or 400.' },
  };
  const list = (what: 'anomalies' | 'reports', item: string): ApiRoute => ({
    path: `/api/v1/${what}`, name: what, tag: 'incidents', query: listParams,
    summary: what === 'anomalies' ? 'Detected anomalies, newest first' : 'Incident reports, newest first',
    responses: { 200: { description: `A page of ${what}`, content: { 'application/json': { schema: pageOf(item) } } }, ...ERROR_RESPONSES },
    async handle(request) {
      const p = parseQueryParams(request.query, listParams, ctx.now());
      const store = storeOf(ctx);
      // With auth on, the key's tenant scopes every read; with auth off every tenant's are served unless one
      // is asked for (the README's Security section says so).
      const tenant = ctx.tenantOf(request, p['tenant'] as string | undefined);
      const options = { limit: p['limit'] as number | undefined, before: p['before'] as string | undefined, service: p['service'] as string | undefined, tenant };
      const page = what === 'anomalies' ? await store.listAnomalies(options) : await store.listReports(options);
      return json(200, { items: what === 'reports' ? redactor.value(page.items) : page.items, next: page.nextCursor ?? null });
    },
  });

  const reportParams: ParamSpecs = { format: { kind: 'string', values: ['json', 'markdown'], description: 'json (default) or markdown (the report\'s text/markdown, its charts inlined as data: URI images).' } };
  const report: ApiRoute = {
    path: '/api/v1/reports/{id}', name: 'report', tag: 'incidents', query: reportParams,
    pathParams: { id: 'The report id (UUID).' },
    summary: 'One incident report',
    responses: {
      200: { description: 'The report', content: { 'application/json': { schema: ref('IncidentReport') }, 'text/markdown': { schema: { type: 'string' } } } },
      ...ERROR_RESPONSES,
    },
    async handle(request, path) {
      const p = parseQueryParams(request.query, reportParams, ctx.now());
      const store = storeOf(ctx);
      const id = path['id']!;
      // Another tenant's report is not found, the same answer as no report: ids of other tenants are not confirmed.
      const tenant = ctx.tenantOf(request, undefined);
      const found = await store.getReport(id, { tenant });
      if (found === undefined) throw new HeliosError('HLS_ERR_NOT_FOUND', `no report ${id}`);
      const safe = redactor.value(found);
      // The Markdown is one self-contained document (a download, a ticket, a wiki page): no files beside it,
      // and a link back to the API would need the key a Markdown viewer does not send, so the charts are
      // inlined as data URIs. Redacted before inlining: a secret pattern must never match inside the base64.
      if (p['format'] === 'markdown') return { status: 200, headers: { 'content-type': 'text/markdown; charset=utf-8' }, body: withChartImages(safe.markdown, (safe.charts ?? []).map((c) => ({ title: c.title, file: chartDataUri(c) }))) };
      return json(200, safe);
    },
  };
  return { routes: [list('anomalies', 'Anomaly'), list('reports', 'IncidentReport'), report] };
}
