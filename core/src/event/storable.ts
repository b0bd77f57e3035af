import type { AttributeValue, HeliosEvent } from './schema.js';

/**
 * What the store can hold, checked where every input format converges (normalizeEventInput for Helios
 * JSON, the OTLP translators for OTLP JSON and protobuf), so an event that was acknowledged can always
 * be written: a 202 is a promise. Validation and the store agree on these ranges:
 *
 * - timestamps from the Unix epoch to the end of year 9999: PostgreSQL's timestamptz holds far more, but
 *   years outside 0001..9999 have no ISO 8601 text the COPY writer could send (and year 0 does not exist);
 * - sample_rate at most MAX_SAMPLE_RATE: the rollups and counts add sample_rate into a bigint
 *   (round(sum(sample_rate))::bigint), which a handful of 1e19 rates would overflow for every tenant;
 * - latency_ms at most MAX_LATENCY_MS: the weighted mean multiplies it by sample_rate in double
 *   precision, which PostgreSQL refuses to overflow to infinity (an error, not a value);
 * - numbers finite (JSON and jsonb cannot carry NaN or Infinity);
 * - attribute keys at most MAX_ATTRIBUTE_KEY_LENGTH characters, as the schema says.
 *
 * Text is sanitized instead of refused: a lone UTF-16 surrogate (legal in a JSON string escape, not
 * encodable as UTF-8, so PostgreSQL refuses it) becomes U+FFFD, as NUL does at the writer.
 */
import { MAX_ATTRIBUTE_KEY_LENGTH, MAX_EVENT_TIMESTAMP_MS, MAX_LATENCY_MS, MAX_SAMPLE_RATE, MIN_EVENT_TIMESTAMP_MS } from './limits.js';

export { MAX_ATTRIBUTE_KEY_LENGTH, MAX_EVENT_TIMESTAMP_MS, MAX_LATENCY_MS, MAX_SAMPLE_RATE, MIN_EVENT_TIMESTAMP_MS };

// Node 20+ has both (ES2024); the compiler's lib here is older.
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}
const isWellFormed = (text: string): boolean => (text as unknown as WellFormedString).isWellFormed();

function wellFormed(text: string): string {
  return isWellFormed(text) ? text : (text as unknown as WellFormedString).toWellFormed();
}

/** Lone surrogates in keys and string values replaced; a problem per key that is too long or number that is not finite. */
function storableAttributes(attributes: Record<string, AttributeValue>, field: string, problems: string[]): Record<string, AttributeValue> {
  let out = attributes;
  for (const key in attributes) {
    const value = attributes[key]!;
    if (key.length > MAX_ATTRIBUTE_KEY_LENGTH) {
      problems.push(`${field}: key of ${key.length} characters, expected at most ${MAX_ATTRIBUTE_KEY_LENGTH} (key starts ${JSON.stringify(wellFormed(key.slice(0, 40)))})`);
      continue;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      problems.push(`${field}.${wellFormed(key)}: expected a finite number, got ${String(value)}`);
      continue;
    }
    const keyOk = isWellFormed(key);
    const valueOk = typeof value !== 'string' || isWellFormed(value);
    if (keyOk && valueOk) continue;
    // Copy on the first change: the caller's object may be shared (a bus record, a test fixture).
    if (out === attributes) out = { ...attributes };
    if (!keyOk) delete out[key];
    const cleanValue = typeof value === 'string' ? wellFormed(value) : value;
    const cleanKey = wellFormed(key);
    if (cleanKey === '__proto__') Object.defineProperty(out, cleanKey, { value: cleanValue, enumerable: true, writable: true, configurable: true });
    else out[cleanKey] = cleanValue;
  }
  return out;
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isFinite(value) && value >= min && value <= max;
}

/**
 * Make `event` storable in place (lone surrogates to U+FFFD in every text field, attribute key or value)
 * and list what cannot be stored, each `field: what was expected, got what`, the field prefixed with
 * `at` (`[3].`). Empty when the event can be written.
 */
export function makeStorable(event: HeliosEvent, at = ''): string[] {
  const problems: string[] = [];
  if (!inRange(event.timestamp, MIN_EVENT_TIMESTAMP_MS, MAX_EVENT_TIMESTAMP_MS)) {
    problems.push(`${at}timestamp: expected a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (epoch ms ${MIN_EVENT_TIMESTAMP_MS} to ${MAX_EVENT_TIMESTAMP_MS}), got ${String(event.timestamp)}`);
  }
  if (!inRange(event.sample_rate, 1, MAX_SAMPLE_RATE)) {
    problems.push(`${at}sample_rate: expected a number from 1 to ${MAX_SAMPLE_RATE}, got ${String(event.sample_rate)}`);
  }
  if (event.latency_ms !== null && !inRange(event.latency_ms, 0, MAX_LATENCY_MS)) {
    problems.push(`${at}latency_ms: expected a number from 0 to ${MAX_LATENCY_MS}, got ${String(event.latency_ms)}`);
  }
  if (event.status_code !== null && !(Number.isInteger(event.status_code) && inRange(event.status_code, 0, 999))) {
    problems.push(`${at}status_code: expected an integer from 0 to 999, got ${String(event.status_code)}`);
  }
  event.service = wellFormed(event.service);
  event.message = wellFormed(event.message);
  if (event.endpoint !== null) event.endpoint = wellFormed(event.endpoint);
  if (event.error_code !== null) event.error_code = wellFormed(event.error_code);
  event.tenant = wellFormed(event.tenant);
  event.attributes = storableAttributes(event.attributes, `${at}attributes`, problems);
  event.resource = storableAttributes(event.resource, `${at}resource`, problems);
  return problems;
}
