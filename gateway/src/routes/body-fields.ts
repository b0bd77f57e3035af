import { HeliosError } from '@helios/core';
import type { GatewayRequest } from '../http/transport.js';

/**
 * The JSON body of a write route, declared once per route like its query parameters (query-params.ts):
 * the parser refuses an unknown field and a bad value with HLS_ERR_REQUEST_INVALID naming the field
 * (message `field: …`, `details: [field]`), and the OpenAPI document's requestBody is written from the
 * same declaration (openapi.ts), so documented and accepted fields cannot drift.
 */
export type BodyFieldSpec =
  | { kind: 'string'; description: string; required?: boolean; maxLength: number; values?: readonly string[] }
  /** Epoch milliseconds (a non-negative integer) or an RFC 3339 time string. */
  | { kind: 'time'; description: string; required?: boolean };

export interface BodySpec {
  description: string;
  fields: Readonly<Record<string, BodyFieldSpec>>;
  /** An empty body is read as `{}` (actions that take no fields). */
  optional?: boolean;
}

export type BodyValue = string | number;

function invalid(field: string, problem: string): HeliosError {
  return new HeliosError('HLS_ERR_REQUEST_INVALID', `${field}: ${problem}`, { details: [field] });
}

export function parseJsonBody(request: GatewayRequest, spec: BodySpec): Record<string, BodyValue | undefined> {
  const text = request.body.toString('utf8').trim();
  let value: unknown = {};
  if (text === '') {
    if (spec.optional !== true) throw new HeliosError('HLS_ERR_BODY_EMPTY', 'send a JSON object');
  } else {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new HeliosError('HLS_ERR_BODY_MALFORMED', `body is not JSON: ${(err as Error).message}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('body', 'expected a JSON object');
  const body = value as Record<string, unknown>;
  const known = Object.keys(spec.fields);
  const unknown = Object.keys(body).find((k) => !known.includes(k));
  if (unknown !== undefined) throw invalid(unknown, `unknown field; ${known.length === 0 ? 'this route takes none' : `known: ${known.join(', ')}`}`);
  const out: Record<string, BodyValue | undefined> = {};
  for (const [field, fieldSpec] of Object.entries(spec.fields)) {
    const v = body[field];
    if (v === undefined) {
      if (fieldSpec.required === true) throw invalid(field, fieldSpec.kind === 'time' ? 'required (epoch milliseconds or an RFC 3339 time)' : 'required');
      continue;
    }
    out[field] = fieldSpec.kind === 'time' ? readTime(field, v) : readString(field, fieldSpec, v);
  }
  return out;
}

function readTime(field: string, value: unknown): number {
  const ms = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(field, `expected epoch milliseconds or an RFC 3339 time, got ${JSON.stringify(value)?.slice(0, 100)}`);
  return ms;
}

function readString(field: string, spec: Extract<BodyFieldSpec, { kind: 'string' }>, value: unknown): string {
  if (typeof value !== 'string' || (spec.required === true && value.trim() === '') || value.length > spec.maxLength) {
    throw invalid(field, `expected ${spec.required === true ? 'a non-empty ' : 'a '}string of at most ${spec.maxLength} characters, got ${JSON.stringify(value)?.slice(0, 100)}`);
  }
  if (spec.values !== undefined && !spec.values.includes(value)) throw invalid(field, `expected one of ${spec.values.join(', ')}, got ${JSON.stringify(value.slice(0, 100))}`);
  return value;
}

/** The body's JSON Schema for the OpenAPI document. */
export function bodySchema(spec: BodySpec): Record<string, unknown> {
  const properties = Object.fromEntries(Object.entries(spec.fields).map(([field, f]) => [field, f.kind === 'time'
    ? { description: f.description, oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date-time' }] }
    : { type: 'string', description: f.description, maxLength: f.maxLength, ...(f.values === undefined ? {} : { enum: [...f.values] }) }]));
  const required = Object.entries(spec.fields).filter(([, f]) => f.required === true).map(([field]) => field);
  return { type: 'object', description: spec.description, additionalProperties: false, properties, ...(required.length === 0 ? {} : { required }) };
}
