import { HeliosError } from '@helios/core';

/**
 * A payload that cannot be read as the message it claims to be. Thrown deep inside the decoders
 * with only the innermost location known; each enclosing level prepends its own segment on the way
 * out (`prefixPath`), so the client gets `resourceSpans[0].scopeSpans[1].spans[3].name: ...` without
 * the decoders tracking a path on the hot path. Converted into HLS_ERR_BODY_MALFORMED at the API edge.
 */
export class MalformedPayload extends Error {
  path: string;
  readonly problem: string;

  constructor(path: string, problem: string) {
    super(problem);
    this.name = 'MalformedPayload';
    this.path = path;
    this.problem = problem;
  }
}

/** Prepend `segment` to the location of a MalformedPayload passing through; other errors pass untouched. */
export function prefixPath(err: unknown, segment: string): unknown {
  if (err instanceof MalformedPayload) {
    err.path = err.path === '' ? segment : err.path.startsWith('[') ? `${segment}${err.path}` : `${segment}.${err.path}`;
  }
  return err;
}

export function toHeliosError(err: unknown): unknown {
  if (err instanceof MalformedPayload) {
    return new HeliosError('HLS_ERR_BODY_MALFORMED', err.path === '' ? err.problem : `${err.path}: ${err.problem}`);
  }
  return err;
}

/** A JSON value for error messages: short, never the whole payload. */
export function describeJson(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
