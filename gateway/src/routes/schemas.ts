import type { ResponseDoc } from './api-route.js';

/** JSON Schemas of read API responses, referenced from the OpenAPI document's components (openapi.ts). */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const EVENT_LIST = {
  type: 'object', required: ['items', 'next', 'from', 'to'],
  properties: {
    items: { type: 'array', items: ref('HeliosEvent') },
    next: { type: ['string', 'null'], description: 'Pass as `cursor` for the next (older) page; null on the last page.' },
    from: { type: 'integer', description: 'The range searched, epoch ms (inclusive).' },
    to: { type: 'integer', description: 'End of the range searched, epoch ms (exclusive).' },
  },
};

export const TRACE_EVENTS = {
  type: 'object', required: ['traceId', 'items', 'truncated'],
  properties: { traceId: { type: 'string' }, items: { type: 'array', items: ref('HeliosEvent') }, truncated: { type: 'boolean', description: 'More events than `limit` exist.' } },
};

const SERVICE_POINT = {
  type: 'object', required: ['minute', 'events', 'errors', 'latencyP95Ms'],
  properties: { minute: { type: 'integer' }, events: { type: 'number' }, errors: { type: 'number' }, latencyP95Ms: { type: ['number', 'null'] } },
};

/** A service's detection state (core's ServiceDetectionStatus). */
export const DETECTION_STATUS = {
  type: 'object', required: ['tenant', 'service', 'updatedAt', 'state', 'series'],
  properties: {
    tenant: { type: 'string' }, service: { type: 'string' },
    updatedAt: { type: 'integer', description: 'When the detect runtime took this snapshot (epoch ms).' },
    state: { type: 'string', enum: ['learning', 'active'], description: '`active` when any series of the service is judged.' },
    series: {
      type: 'array',
      items: {
        type: 'object', required: ['detector', 'kind', 'series', 'state', 'windowsSeen', 'threshold', 'firstVerdictInMs'],
        properties: {
          detector: { type: 'string' },
          kind: { type: 'string', enum: ['requests', 'dependency', 'logs', 'metric'], description: 'The service\'s requests, its calls to one dependency, its logs, or a metric series.' },
          series: { type: 'string', description: '`requests`, `dependency:<peer>`, `logs`, or the metric series\' name.' },
          peer: { type: 'string', description: 'The dependency (dependency series only).' },
          state: { type: 'string', enum: ['learning', 'active'], description: '`learning`: no verdicts yet.' },
          windowsSeen: { type: 'integer' },
          threshold: { type: ['number', 'null'], description: 'The detector\'s threshold in its own units (null while learning).' },
          firstVerdictInMs: { type: ['integer', 'null'], description: 'Estimated time to the first verdict (0 when active; null when the detector cannot tell).' },
        },
      },
    },
  },
} as const;

export const SERVICE_LIST = {
  type: 'object', required: ['from', 'to', 'items'],
  properties: {
    from: { type: 'integer' }, to: { type: 'integer' },
    items: {
      type: 'array',
      items: {
        type: 'object', required: ['tenant', 'service', 'eventsPerSecond', 'errorRate', 'latencyP95Ms', 'lastMinute', 'series', 'anomalies', 'detectorState'],
        properties: {
          tenant: { type: 'string' }, service: { type: 'string' },
          eventsPerSecond: { type: 'number', description: 'The latest rolled-up minute\'s rate.' },
          errorRate: { type: 'number', description: 'The latest rolled-up minute\'s errors / events.' },
          latencyP95Ms: { type: ['number', 'null'] },
          lastMinute: { type: 'integer', description: 'Start of the latest rolled-up minute, epoch ms.' },
          series: { type: 'array', items: SERVICE_POINT, description: 'Per minute of the last hour (minutes with events), oldest first: sparklines.' },
          anomalies: { type: 'object', properties: { count: { type: 'integer' }, lastDetectedAt: { type: ['integer', 'null'] } }, description: 'Anomalies detected in the last hour.' },
          detectorState: {
            oneOf: [{ type: 'null' }, DETECTION_STATUS],
            description: 'The detect runtime\'s state of the service\'s series (requests, dependencies, logs, metric series): live from the detect role in this process, else as the detect worker owning the service last saved it to the store (every detection.stateSaveIntervalMs). Null when no detect worker has judged the service yet.',
          },
        },
      },
    },
  },
};

export const SERVICE_SERIES = {
  type: 'object', required: ['tenant', 'service', 'from', 'to', 'items'],
  properties: {
    tenant: { type: 'string' }, service: { type: 'string' }, from: { type: 'integer' }, to: { type: 'integer' },
    items: { type: 'array', items: ref('ServiceMinute'), description: 'Per-minute rollups, oldest first; minutes without events are absent.' },
  },
};

export const SERVICE_MINUTE = {
  type: 'object',
  properties: {
    minute: { type: 'integer' }, tenant: { type: 'string' }, service: { type: 'string' }, events: { type: 'number' },
    levels: { type: 'object', additionalProperties: { type: 'number' } }, errors: { type: 'number' },
    latencyAvgMs: { type: ['number', 'null'] }, latencyP50Ms: { type: ['number', 'null'] }, latencyP95Ms: { type: ['number', 'null'] },
    latencyP99Ms: { type: ['number', 'null'] }, latencyMaxMs: { type: ['number', 'null'] }, uniqueEndpoints: { type: 'number' },
  },
};

export const ERROR_BODY = {
  type: 'object', required: ['error'],
  properties: {
    error: {
      type: 'object', required: ['code', 'message'],
      properties: { code: { type: 'string', description: 'Stable code, e.g. HLS_ERR_QUERY_INVALID.' }, message: { type: 'string' }, details: { type: 'array', items: { type: 'string' }, description: 'For HLS_ERR_QUERY_INVALID and HLS_ERR_REQUEST_INVALID: the parameter or field.' } },
    },
  },
};

export const errorResponse = (description: string): ResponseDoc => ({ description, content: { 'application/json': { schema: ref('Error') } } });

/** The errors every read route can answer. */
export const ERROR_RESPONSES: Readonly<Record<string, ResponseDoc>> = {
  400: errorResponse('A query parameter is unknown, repeated or invalid (HLS_ERR_QUERY_INVALID; `details` names it)'),
  401: errorResponse('Auth is on and the API key is missing or unknown'),
  404: errorResponse('Not found (or another tenant\'s), or this process serves no store API'),
  503: errorResponse('The store failed, or the server is at a limit; retry after Retry-After'),
};

const WINDOW_TOTALS = {
  type: 'object', required: ['from', 'to', 'events', 'errors', 'avgLatencyMs', 'p95LatencyMs'],
  properties: { from: { type: 'integer' }, to: { type: 'integer' }, events: { type: 'number' }, errors: { type: 'number' }, avgLatencyMs: { type: ['number', 'null'] }, p95LatencyMs: { type: ['number', 'null'] } },
};

/** IncidentContext (core/src/incident.ts): the evidence a report is written from. */
export const SERVICE_CONTEXT = {
  type: 'object', required: ['window', 'baseline', 'topErrors', 'slowestEndpoints', 'tenants', 'exampleTraceIds'],
  properties: {
    window: WINDOW_TOTALS,
    baseline: { ...WINDOW_TOTALS, description: 'The same service over the windows of the same length just before `from`, summed.' },
    topErrors: {
      type: 'array', items: { type: 'object', properties: { errorCode: { type: ['string', 'null'] }, message: { type: 'string' }, events: { type: 'number' }, lastSeen: { type: 'integer' } } },
    },
    slowestEndpoints: {
      type: 'array', items: { type: 'object', properties: { endpoint: { type: 'string' }, events: { type: 'number' }, errors: { type: 'number' }, avgLatencyMs: { type: ['number', 'null'] }, p95LatencyMs: { type: ['number', 'null'] } } },
    },
    tenants: { type: 'array', items: { type: 'object', properties: { tenant: { type: 'string' }, events: { type: 'number' }, errors: { type: 'number' } } } },
    exampleTraceIds: { type: 'array', items: { type: 'string' } },
  },
};
