/**
 * The wire shape the SDK sends to `POST /api/v1/events`: Helios event input schema v1
 * (core/src/event/schema.ts). Declared here rather than imported so the SDK installs alone.
 */
export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];
/** Levels as users may write them; matched case-insensitively. */
export type LevelInput = Level | Lowercase<Level> | 'warning' | 'WARNING' | 'fatal' | 'FATAL';
export type EventKind = 'log' | 'span' | 'metric' | 'event';
export type AttributeValue = string | number | boolean | null;
export type Attributes = Record<string, AttributeValue>;

export interface WireEvent {
  /** UUID v7 chosen by the SDK: the gateway's idempotency key, so retries and replays never duplicate. */
  id: string;
  /** Epoch milliseconds. */
  timestamp: number;
  service: string;
  level: Level;
  message: string;
  kind: EventKind;
  endpoint: string | undefined;
  latency_ms: number | undefined;
  status_code: number | undefined;
  error_code: string | undefined;
  trace_id: string | undefined;
  span_id: string | undefined;
  /** How many events this one stands for (>= 1) when it was sampled; left out (1) otherwise. */
  sample_rate: number | undefined;
  attributes: Attributes | undefined;
  resource: Attributes | undefined;
}

const LEVEL_BY_NAME: Record<string, Level> = Object.assign(Object.create(null) as Record<string, Level>, {
  TRACE: 'TRACE', DEBUG: 'DEBUG', INFO: 'INFO', WARN: 'WARN', WARNING: 'WARN', ERROR: 'ERROR', CRITICAL: 'CRITICAL', FATAL: 'CRITICAL',
  trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', warning: 'WARN', error: 'ERROR', critical: 'CRITICAL', fatal: 'CRITICAL',
});

export function parseLevel(text: string): Level | undefined {
  return LEVEL_BY_NAME[text] ?? LEVEL_BY_NAME[text.toUpperCase()];
}

export const LEVEL_RANK: Record<Level, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, CRITICAL: 5 };

export function isErrorLevel(level: Level): boolean {
  return level === 'ERROR' || level === 'CRITICAL';
}

// Limits of the input schema: values beyond them would get the whole batch rejected with a 400.
const MAX_ATTRIBUTES = 128;
const MAX_KEY_LENGTH = 256;
const MAX_ATTRIBUTE_STRING = 4096;
export const MAX_MESSAGE_LENGTH = 65536;
const MAX_ENDPOINT_LENGTH = 1024;
const MAX_ERROR_CODE_LENGTH = 256;

/**
 * Copies user attributes into the flat scalar map the schema accepts: nested values become JSON text,
 * Errors their message, over-long strings are cut, keys beyond the 128th are ignored. Copying (rather than
 * keeping the caller's object) means later mutation by the caller cannot change a queued event.
 */
export function toAttributes(source: Record<string, unknown>, into: Attributes | undefined, skipRequestFields: boolean): Attributes | undefined {
  let out = into;
  let count = out === undefined ? 0 : Object.keys(out).length;
  for (const key in source) {
    if (skipRequestFields && (key === 'endpoint' || key === 'latency_ms' || key === 'status_code' || key === 'error_code')) continue;
    const value = source[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    if (count >= MAX_ATTRIBUTES) break;
    if (out === undefined) out = {};
    const name = key.length > MAX_KEY_LENGTH ? key.slice(0, MAX_KEY_LENGTH) : key;
    if (!(name in out)) count++;
    out[name] = toScalar(value);
  }
  return out;
}

function toScalar(value: unknown): AttributeValue {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_ATTRIBUTE_STRING ? value.slice(0, MAX_ATTRIBUTE_STRING) : value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    default: {
      if (value === null) return null;
      if (value instanceof Error) return toScalar(value.message);
      if (value instanceof Date) return value.toISOString();
      let text: string;
      try {
        text = JSON.stringify(value) ?? String(value);
      } catch {
        text = String(value);
      }
      return toScalar(text);
    }
  }
}

export function clampString(value: string | undefined, max: number): string | undefined {
  return value === undefined || value.length <= max ? value : value.slice(0, max);
}

export function clampEndpoint(value: string | undefined): string | undefined {
  return value === '' ? undefined : clampString(value, MAX_ENDPOINT_LENGTH);
}

export function clampErrorCode(value: string | undefined): string | undefined {
  return value === '' ? undefined : clampString(value, MAX_ERROR_CODE_LENGTH);
}

/** The application error code of a thrown value: its `code` when it has one, else its class name. */
export function errorCodeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    if (typeof code === 'number') return String(code);
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return 'Error';
}

/**
 * The client's request-event fast path, keyed by a symbol so it stays off the public API: the middleware
 * builds the finished event directly instead of going through `event()`'s option parsing. A client from
 * another copy of the SDK (or a test double) without it gets `event()` instead.
 */
export const RECORD_REQUEST = Symbol.for('helios.sdk.recordRequest');
/**
 * One finished request: it took `(endMs ?? performance.now()) - startMs`. With `endMs` undefined the clock
 * is read only for requests that are sent: most requests of a busy route are only counted, never timed.
 */
export type RequestRecorder = (method: string, endpoint: string, statusCode: number, startMs: number, endMs: number | undefined, errorCode: string | undefined) => void;
