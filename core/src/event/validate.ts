import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { TSchema } from '@sinclair/typebox';
import { EventIdSequence, newEventId } from './event-id.js';
import { HeliosError } from '../errors.js';
import { makeStorable } from './storable.js';
import { EventInputSchema, type AttributeValue, type EventInput, type HeliosEvent, type Level } from './schema.js';

const LEVEL_BY_NAME: Record<string, Level> = Object.assign(Object.create(null) as Record<string, Level>, {
  TRACE: 'TRACE', DEBUG: 'DEBUG', INFO: 'INFO', WARN: 'WARN', WARNING: 'WARN', ERROR: 'ERROR', CRITICAL: 'CRITICAL', FATAL: 'CRITICAL',
});

/** OTel SeverityNumber (1..24) to a Helios level: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 CRITICAL. */
export function levelFromSeverityNumber(severity: number): Level | undefined {
  if (!(severity >= 1 && severity <= 24)) return undefined;
  return (['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const)[Math.floor((severity - 1) / 4)];
}

/** Level from free text (`warn`, `Warning`, `FATAL`...), undefined when unknown. */
export function parseLevel(text: string): Level | undefined {
  return LEVEL_BY_NAME[text] ?? LEVEL_BY_NAME[text.toUpperCase()];
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `/metadata/latency_ms` -> `metadata.latency_ms`; array indices as `[3]`. */
function jsonPointerToPath(pointer: string, prefix: string): string {
  let out = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

function expectation(error: ValueError): string {
  const schema = error.schema as TSchema & Record<string, unknown>;
  if (typeof schema['x-expected'] === 'string') return `expected ${schema['x-expected']}, got ${describe(error.value)}`;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown field';
    case ValueErrorType.StringPattern:
      return `expected a string matching ${String(schema['pattern'])}, got ${describe(error.value)}`;
    case ValueErrorType.Union:
      return `expected ${(schema['anyOf'] as TSchema[]).map((s) => ('const' in s ? JSON.stringify(s['const']) : String(s['type']))).join(' or ')}, got ${describe(error.value)}`;
    default:
      return `${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}, got ${describe(error.value)}`;
  }
}

/**
 * A compiled validator for one schema that reports every problem with its path, e.g.
 * `metadata.latency_ms: expected number, got "abc"`. Checking a valid value is one call to
 * generated code; the error walk only runs for invalid ones.
 */
export interface SchemaValidator<T> {
  check(value: unknown): value is T;
  /** All problems, each `path: what was expected, got what`. Empty when valid. */
  errors(value: unknown, pathPrefix?: string): string[];
}

export function compileValidator<T>(schema: TSchema): SchemaValidator<T> {
  const compiled: TypeCheck<TSchema> = TypeCompiler.Compile(schema);
  return {
    check: (value: unknown): value is T => compiled.Check(value),
    errors(value, pathPrefix = '') {
      const seen = new Set<string>();
      const out: string[] = [];
      for (const error of compiled.Errors(value)) {
        // A union member failing produces one error per branch; the union line already says it all.
        const line = `${jsonPointerToPath(error.path, pathPrefix)}: ${expectation(error)}`;
        if (!seen.has(error.path)) out.push(line);
        seen.add(error.path);
      }
      return out;
    },
  };
}

const inputValidator = compileValidator<EventInput>(EventInputSchema);

export interface NormalizeOptions {
  tenant: string;
  /** Ingestion time in epoch ms, the default timestamp. */
  now: number;
  /**
   * normalizeEventBatch: the first id of the batch (`EventIdSequence`); events without an id of their own
   * get its derived ids by index. Default: a new id per batch. A Kafka consumer normalizing the request
   * bytes the gateway forwarded passes the gateway's, and gets the ids the gateway answered with.
   */
  idBase?: string;
  /** With idBase: each value's index in the batch the ids were drawn for (a record may hold part of a request). Default: its own index. */
  idIndexes?: readonly number[];
}

function copyAttributes(source: Record<string, AttributeValue> | undefined): Record<string, AttributeValue> {
  return source === undefined ? {} : { ...source };
}

/**
 * Validate one Helios JSON event and translate it into the normalized schema.
 * Throws HLS_ERR_EVENT_INVALID listing every problem; `pathPrefix` locates the event in a batch (`[3]`).
 */
export function normalizeEventInput(value: unknown, options: NormalizeOptions, pathPrefix = '', assignedId?: string): HeliosEvent {
  const problems = inputValidator.check(value) ? [] : inputValidator.errors(value, pathPrefix);
  const input = value as EventInput;
  const at = (field: string) => (pathPrefix === '' ? field : `${pathPrefix}.${field}`);

  // Checks JSON Schema cannot express (case-insensitive level, calendar dates) run even when the
  // schema failed, so the client sees every problem at once.
  let level: Level = 'INFO';
  if (typeof input === 'object' && input !== null && typeof input.level === 'string') {
    const parsed = parseLevel(input.level);
    if (parsed === undefined) problems.push(`${at('level')}: expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, got ${describe(input.level)}`);
    else level = parsed;
  }
  if (problems.length > 0) throw new HeliosError('HLS_ERR_EVENT_INVALID', problems[0], { details: problems });
  let timestamp = options.now;
  if (typeof input.timestamp === 'string') {
    timestamp = Date.parse(input.timestamp);
    if (Number.isNaN(timestamp)) problems.push(`${at('timestamp')}: not a valid RFC 3339 date-time, got ${describe(input.timestamp)}`);
  } else if (typeof input.timestamp === 'number') {
    timestamp = Math.round(input.timestamp);
  }
  if (problems.length > 0) throw new HeliosError('HLS_ERR_EVENT_INVALID', problems[0], { details: problems });

  const metadata = input.metadata;
  const attributes = copyAttributes(input.attributes);
  if (metadata !== undefined) {
    for (const key in metadata) {
      if (key !== 'endpoint' && key !== 'latency_ms' && key !== 'status_code' && key !== 'error_code') {
        attributes[key] = (metadata as Record<string, AttributeValue>)[key] as AttributeValue;
      }
    }
  }
  const event: HeliosEvent = {
    id: input.id?.toLowerCase() ?? assignedId ?? newEventId(),
    timestamp,
    service: input.service,
    level,
    message: input.message ?? '',
    kind: input.kind ?? 'event',
    endpoint: input.endpoint ?? metadata?.endpoint ?? null,
    latency_ms: input.latency_ms ?? metadata?.latency_ms ?? null,
    status_code: input.status_code ?? metadata?.status_code ?? null,
    error_code: input.error_code ?? metadata?.error_code ?? null,
    trace_id: input.trace_id ?? null,
    span_id: input.span_id ?? null,
    sample_rate: input.sample_rate ?? 1,
    attributes,
    resource: copyAttributes(input.resource),
    tenant: options.tenant,
  };
  // Ranges the schema cannot express and the store needs (storable.ts): what is accepted here can be written.
  const unstorable = makeStorable(event, pathPrefix === '' ? '' : `${pathPrefix}.`);
  if (unstorable.length > 0) throw new HeliosError('HLS_ERR_EVENT_INVALID', unstorable[0], { details: unstorable });
  return event;
}

/**
 * Normalize a batch; all-or-nothing. Every problem in every event is reported, each prefixed with
 * the event's index (`[3].latency_ms: ...`), so a client can fix the whole batch at once.
 */
export function normalizeEventBatch(values: readonly unknown[], options: NormalizeOptions): HeliosEvent[] {
  const events: HeliosEvent[] = new Array(values.length);
  // One event without a given first id (a single-event request) takes a fresh id, without the sequence.
  const ids = values.length === 1 && options.idBase === undefined ? undefined : new EventIdSequence(options.idBase ?? newEventId());
  const idIndexes = options.idIndexes;
  let problems: string[] | undefined;
  for (let i = 0; i < values.length; i++) {
    try {
      events[i] = normalizeEventInput(values[i], options, values.length === 1 ? '' : `[${i}]`, ids?.at(idIndexes === undefined ? i : idIndexes[i]!));
    } catch (err) {
      if (!(err instanceof HeliosError)) throw err;
      (problems ??= []).push(...err.details);
      if (problems.length >= 100) break; // enough to fix a batch; keeps a hostile body cheap
    }
  }
  if (problems !== undefined) throw new HeliosError('HLS_ERR_EVENT_INVALID', `${problems.length} problem(s): ${problems[0]}`, { details: problems });
  return events;
}

export { EventIdSequence, newEventId };
