import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ReportDraftSchema } from '../incident.js';
import { MAX_EVENT_TIMESTAMP_MS, MAX_LATENCY_MS, MAX_SAMPLE_RATE } from './limits.js';

/**
 * Helios event schema, version 1.
 *
 * Two shapes: `EventInput` is what clients send as Helios JSON (lenient where it costs nothing:
 * timestamp as RFC 3339 or epoch ms, level in any case, the original design's `metadata` envelope);
 * `HeliosEvent` is the one normalized shape every producer (Helios JSON, OTLP logs/traces/metrics)
 * is translated into and that travels on the bus and into the store. Its fields are always present
 * (null when unknown) so every event has the same object shape on the hot path.
 *
 * The JSON Schema published in `core/schema/` is generated from these definitions (`npm run schema -w @helios/core`)
 * and a test keeps it in step.
 */
export const EVENT_SCHEMA_VERSION = 1;

export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

export const KINDS = ['log', 'span', 'metric', 'event'] as const;
export type Kind = (typeof KINDS)[number];

const Scalar = Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean(), Type.Null()]);
export type AttributeValue = string | number | boolean | null;

const Attributes = Type.Record(Type.String({ maxLength: 256 }), Scalar, {
  description: 'Flat key/value pairs; keys follow OpenTelemetry semantic conventions where one exists.',
  maxProperties: 128,
});

const HEX_TRACE_ID = '^[0-9a-f]{32}$';
const HEX_SPAN_ID = '^[0-9a-f]{16}$';
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
// RFC 3339 date-time; Date.parse checks the calendar afterwards.
const RFC3339 = '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$';

const requestFields = {
  endpoint: Type.String({ minLength: 1, maxLength: 1024, description: 'Route template (`/api/users/:id`), not the raw path.' }),
  latency_ms: Type.Number({ minimum: 0, maximum: MAX_LATENCY_MS, description: 'Request or span duration in milliseconds.' }),
  status_code: Type.Integer({ minimum: 0, maximum: 999, description: 'HTTP (or RPC) status code.' }),
  error_code: Type.String({ minLength: 1, maxLength: 256, description: 'Application error code, e.g. DB_TIMEOUT.' }),
};

/**
 * Client-side sampling, as Honeycomb's SampleRate and OpenTelemetry's adjusted count: an SDK that
 * keeps one request in ten sends it with `sample_rate: 10`, and every count Helios computes (windows,
 * rollups, report context) adds `sample_rate` instead of 1, so totals stay exact under sampling.
 */
const sampleRateField = Type.Number({
  minimum: 1,
  maximum: MAX_SAMPLE_RATE,
  description: 'This event stands for `sample_rate` events (1 to 1e9; 1 = not sampled). Counts add it instead of 1. Default 1.',
});

/** The original design's envelope: `metadata.{latency_ms,error_code,endpoint,status_code}`; other keys become attributes. */
const Metadata = Type.Object(
  {
    endpoint: Type.Optional(requestFields.endpoint),
    latency_ms: Type.Optional(requestFields.latency_ms),
    status_code: Type.Optional(requestFields.status_code),
    error_code: Type.Optional(requestFields.error_code),
  },
  { additionalProperties: Scalar, maxProperties: 128 },
);

export const EventInputSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: UUID, 'x-expected': 'a UUID', description: 'Optional client-chosen UUID; makes client retries idempotent. Assigned at ingestion when absent.' })),
    timestamp: Type.Optional(
      Type.Union([Type.String({ pattern: RFC3339 }), Type.Number({ minimum: 0, maximum: MAX_EVENT_TIMESTAMP_MS })], {
        description: 'RFC 3339 string or epoch milliseconds, from 1970 to the end of 9999. Defaults to the time of ingestion.',
        'x-expected': 'an RFC 3339 date-time or epoch milliseconds from 0 to 253402300799999 (end of 9999)',
      }),
    ),
    service: Type.String({ minLength: 1, maxLength: 256, description: 'Name of the emitting service (OTel `service.name`).' }),
    level: Type.Optional(Type.String({ description: 'TRACE, DEBUG, INFO, WARN, ERROR or CRITICAL (any case; WARNING and FATAL accepted). Default INFO.' })),
    message: Type.Optional(Type.String({ maxLength: 65536 })),
    kind: Type.Optional(Type.Union(KINDS.map((k) => Type.Literal(k)), { description: 'Default `event`.' })),
    endpoint: Type.Optional(requestFields.endpoint),
    latency_ms: Type.Optional(requestFields.latency_ms),
    status_code: Type.Optional(requestFields.status_code),
    error_code: Type.Optional(requestFields.error_code),
    trace_id: Type.Optional(Type.String({ pattern: HEX_TRACE_ID, 'x-expected': '32 lower-case hex characters' })),
    span_id: Type.Optional(Type.String({ pattern: HEX_SPAN_ID, 'x-expected': '16 lower-case hex characters' })),
    sample_rate: Type.Optional(sampleRateField),
    attributes: Type.Optional(Attributes),
    resource: Type.Optional(Attributes),
    metadata: Type.Optional(Metadata),
  },
  { $id: 'https://helios.dev/schema/event-input.v1.json', title: 'Helios event (input, v1)', additionalProperties: false },
);
export type EventInput = Static<typeof EventInputSchema>;

export const HeliosEventSchema = Type.Object(
  {
    id: Type.String({ pattern: UUID, description: 'UUIDv7 assigned at ingestion (time-ordered); the idempotency key in the store.' }),
    timestamp: Type.Integer({ minimum: 0, maximum: MAX_EVENT_TIMESTAMP_MS, description: 'Epoch milliseconds.' }),
    service: Type.String({ minLength: 1, maxLength: 256 }),
    level: Type.Union(LEVELS.map((l) => Type.Literal(l))),
    message: Type.String(),
    kind: Type.Union(KINDS.map((k) => Type.Literal(k))),
    endpoint: Type.Union([Type.String(), Type.Null()]),
    latency_ms: Type.Union([Type.Number(), Type.Null()]),
    status_code: Type.Union([Type.Integer(), Type.Null()]),
    error_code: Type.Union([Type.String(), Type.Null()]),
    trace_id: Type.Union([Type.String({ pattern: HEX_TRACE_ID }), Type.Null()]),
    span_id: Type.Union([Type.String({ pattern: HEX_SPAN_ID }), Type.Null()]),
    sample_rate: sampleRateField,
    attributes: Attributes,
    resource: Attributes,
    tenant: Type.String({ minLength: 1, description: 'Stamped by the gateway from the API key; `default` when auth is off.' }),
  },
  { $id: 'https://helios.dev/schema/event.v1.json', title: 'Helios event (normalized, v1)', additionalProperties: false },
);

export interface HeliosEvent {
  id: string;
  timestamp: number;
  service: string;
  level: Level;
  message: string;
  kind: Kind;
  endpoint: string | null;
  latency_ms: number | null;
  status_code: number | null;
  error_code: string | null;
  trace_id: string | null;
  span_id: string | null;
  /** How many events this one stands for (>= 1; 1 = not sampled). Always present so the object shape stays fixed. */
  sample_rate: number;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
  tenant: string;
}

// Compile-time check that the hand-written interface and the schema agree.
type _SchemaMatches = Static<typeof HeliosEventSchema> extends HeliosEvent ? (HeliosEvent extends Static<typeof HeliosEventSchema> ? true : never) : never;
export const _schemaMatches: _SchemaMatches = true;

export const ERROR_LEVELS: ReadonlySet<Level> = new Set<Level>(['ERROR', 'CRITICAL']);

/** JSON Schema documents as published (draft 2020-12 compatible). */
export function jsonSchemas(): Record<string, TSchema> {
  return { 'event-input.v1.json': EventInputSchema, 'event.v1.json': HeliosEventSchema, 'report-draft.v1.json': ReportDraftSchema };
}
