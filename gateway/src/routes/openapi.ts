import { createRequire } from 'node:module';
import { EventInputSchema, HeliosEventSchema } from '@helios/core';
import type { ApiRoute } from './api-route.js';
import { bodySchema } from './body-fields.js';
import { parseQueryParams, type ParamSpec } from './query-params.js';
import { ERROR_BODY, ERROR_RESPONSES, SERVICE_MINUTE } from './schemas.js';

/**
 * The OpenAPI 3.1 document served at GET /api/v1/openapi.json. The read routes' operations are written
 * from the same ApiRoute objects the gateway serves (parameters, path templates, responses), so the
 * two cannot drift; the routes the gateway dispatches itself (ingestion, OTLP, health, metrics) are
 * described here. openapi.test.ts checks that the gateway answers exactly the documented operations.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** TypeBox schemas are JSON Schema objects; a JSON round trip drops TypeBox's symbol keys. */
const plain = (schema: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

function paramSchema(spec: ParamSpec): Record<string, unknown> {
  if (spec.kind === 'integer') return { type: 'integer', minimum: spec.min, maximum: spec.max };
  if (spec.kind === 'time') return { type: 'string', examples: ['15m', '2026-01-01T12:00:00Z', '1767268800000'] };
  const one = { type: 'string', minLength: 1, maxLength: spec.maxLength ?? 256, ...(spec.values === undefined ? {} : { enum: [...spec.values] }) };
  return spec.multiple === true ? { type: 'array', items: one } : one;
}

function operationOf(route: ApiRoute): Record<string, unknown> {
  const parameters = [
    ...Object.entries(route.pathParams ?? {}).map(([name, description]) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } })),
    ...Object.entries(route.query).map(([name, spec]) => ({
      name, in: 'query', required: false, description: spec.description, schema: paramSchema(spec),
      ...(spec.kind === 'string' && spec.multiple === true ? { style: 'form', explode: true } : {}),
    })),
    ...Object.entries(route.headers ?? {}).map(([name, description]) => ({ name, in: 'header', required: false, description, schema: { type: 'string' } })),
  ];
  return {
    operationId: route.name, tags: [route.tag], summary: route.summary, ...(route.description === undefined ? {} : { description: route.description }),
    parameters, responses: route.responses,
    ...(route.body === undefined ? {} : { requestBody: { required: route.body.optional !== true, content: json(bodySchema(route.body)) } }),
  };
}

const json = (schema: Record<string, unknown>) => ({ 'application/json': { schema } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_DESCRIPTIONS[c] ?? 'Error', content: json(ref('Error')) }]));
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The body failed validation or could not be parsed', 401: 'Auth is on and the API key is missing or unknown', 405: 'Wrong method',
  413: 'Body, decompressed body or event count over the limit', 415: 'Unsupported content type or encoding',
  429: 'The event bus is full; retry after Retry-After', 503: 'Unavailable (bus closed, shutting down, memory budget); retry after Retry-After',
};

function otlpOperation(signal: string): Record<string, unknown> {
  return {
    post: {
      operationId: `otlp_${signal}`, tags: ['ingestion'], summary: `OTLP/HTTP ${signal} export (protobuf or JSON)`,
      requestBody: { required: true, content: { 'application/x-protobuf': { schema: { type: 'string', format: 'binary' } }, 'application/json': { schema: { type: 'object' } } } },
      responses: {
        200: { description: `Export${signal[0]!.toUpperCase()}${signal.slice(1)}ServiceResponse (partial_success lists rejected records)`, content: { 'application/x-protobuf': { schema: { type: 'string', format: 'binary' } }, 'application/json': { schema: { type: 'object' } } } },
        ...Object.fromEntries([400, 401, 413, 415, 429, 503].map((c) => [String(c), { description: `${ERROR_DESCRIPTIONS[c]} (google.rpc.Status in the request's encoding)` }])),
      },
    },
  };
}

/** Operations the gateway routes itself, not through ApiRoute: ingestion, OTLP, health and metrics. */
function fixedPaths(): Record<string, Record<string, unknown>> {
  return {
    '/healthz': { get: { operationId: 'healthz', tags: ['operations'], summary: 'Liveness', responses: { 200: { description: 'Alive', content: json({ type: 'object' }) } } } },
    '/readyz': { get: { operationId: 'readyz', tags: ['operations'], summary: 'Readiness: the bus (and store) are reachable', responses: { 200: { description: 'Ready', content: json({ type: 'object' }) }, 503: { description: 'Not ready', content: json({ type: 'object' }) } } } },
    '/metrics': { get: { operationId: 'metrics', tags: ['operations'], summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/v1/logs': otlpOperation('logs'),
    '/v1/traces': otlpOperation('traces'),
    '/v1/metrics': otlpOperation('metrics'),
  };
}

const INGEST_OPERATION = {
  operationId: 'events_ingest', tags: ['ingestion'], summary: 'Send events (Helios JSON)',
  description: 'One event, an array, or NDJSON (application/x-ndjson); gzip/deflate with Content-Encoding. A 202 means every event is on the bus (and, with Kafka, acknowledged by it).',
  requestBody: {
    required: true,
    content: {
      'application/json': { schema: { oneOf: [ref('EventInput'), { type: 'array', items: ref('EventInput') }] } },
      'application/x-ndjson': { schema: { type: 'string', description: 'One EventInput JSON object per line.' } },
    },
  },
  responses: {
    202: { description: 'Accepted: published to the bus', content: json({ type: 'object', required: ['accepted', 'ids'], properties: { accepted: { type: 'integer' }, ids: { type: 'array', items: { type: 'string' } } } }) },
    ...errors(400, 401, 413, 415, 429, 503),
  },
};

/** This package's version: the document's info.version. */
export const API_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export function openApiDocument(routes: readonly ApiRoute[], version = API_VERSION): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = fixedPaths();
  for (const route of routes) (paths[route.path] ??= {})[(route.method ?? 'GET').toLowerCase()] = operationOf(route);
  (paths['/api/v1/events'] ??= {})['post'] = INGEST_OPERATION;
  return {
    openapi: '3.1.0',
    info: { title: 'Helios API', version, description: 'Ingestion (Helios JSON, OTLP/HTTP), the read API and the incident and silence API. With gateway.auth.enabled every route except /healthz, /readyz and /metrics needs an API key, and reads and writes see only the key\'s tenant.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { apiKey: [] }],
    tags: [{ name: 'ingestion' }, { name: 'events' }, { name: 'services' }, { name: 'incidents' }, { name: 'operations' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      schemas: {
        Error: ERROR_BODY, HeliosEvent: plain(HeliosEventSchema), EventInput: plain(EventInputSchema), ServiceMinute: SERVICE_MINUTE,
        Anomaly: { type: 'object', description: 'A detected anomaly (core/src/incident.ts).' },
        IncidentReport: { type: 'object', description: 'An incident report (core/src/incident.ts).' },
        Incident: { type: 'object', description: 'An incident and its lifecycle: status, who acknowledged and resolved it, feedback (IncidentRecord, core/src/incident-lifecycle.ts).' },
        Silence: { type: 'object', description: 'A maintenance window of a service (core/src/incident-lifecycle.ts).' },
      },
    },
  };
}

/** The route serving the document itself. */
export function openApiRoute(document: () => string): ApiRoute {
  return {
    path: '/api/v1/openapi.json', name: 'openapi', tag: 'operations', query: {}, public: true,
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: { description: 'The document', content: json({ type: 'object' }) }, 400: ERROR_RESPONSES[400]! },
    handle: async (request) => {
      parseQueryParams(request.query, {}, 0);
      return { status: 200, headers: { 'content-type': 'application/json' }, body: document() };
    },
  };
}
