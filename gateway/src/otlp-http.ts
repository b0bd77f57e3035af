import { HeliosError } from '@helios/core';
import type { GatewayResponse } from './http/transport.js';
import { encodeOtlpStatus, GrpcCode, type OtlpEncoding, type OtlpSignal } from './otlp/index.js';

/**
 * The HTTP side of OTLP/HTTP (the decoding lives in ./otlp): which paths are OTLP, which content
 * types they take, and how an error becomes the response the specification asks for: the HTTP status
 * of the Helios error code, a google.rpc.Status body in the request's encoding, and Retry-After on the
 * retryable 429/503 (set by the caller, which owns the configured value).
 */

/** OTLP paths to signals; a Map built once so routing is one lookup. */
export const OTLP_PATHS: ReadonlyMap<string, OtlpSignal> = new Map<string, OtlpSignal>([
  ['/v1/logs', 'logs'],
  ['/v1/traces', 'traces'],
  ['/v1/metrics', 'metrics'],
]);

export const OTLP_CONTENT_TYPE: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };
const RESPONSE_HEADERS: Record<OtlpEncoding, Readonly<Record<string, string>>> = {
  protobuf: Object.freeze({ 'content-type': OTLP_CONTENT_TYPE.protobuf }),
  json: Object.freeze({ 'content-type': OTLP_CONTENT_TYPE.json }),
};

export function otlpResponseHeaders(encoding: OtlpEncoding): Readonly<Record<string, string>> {
  return RESPONSE_HEADERS[encoding];
}

/** The encoding a Content-Type names, or undefined (415). Parameters such as charset are ignored. */
export function otlpEncoding(contentType: string): OtlpEncoding | undefined {
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

/** google.rpc.Code for each HTTP status the gateway answers OTLP requests with. */
const GRPC_CODE_BY_STATUS: Record<number, number> = {
  400: GrpcCode.INVALID_ARGUMENT,
  401: GrpcCode.UNAUTHENTICATED,
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  413: GrpcCode.INVALID_ARGUMENT,
  415: GrpcCode.INVALID_ARGUMENT,
  429: GrpcCode.RESOURCE_EXHAUSTED,
  503: GrpcCode.UNAVAILABLE,
};

/**
 * An OTLP error response. The Helios code leads the Status message (`HLS_ERR_BODY_MALFORMED: ...`),
 * so OTLP clients, which only log the message, still show the searchable code. A request whose
 * Content-Type is not OTLP gets a JSON Status: the client did not say what it can read.
 */
export function otlpErrorResponse(err: HeliosError, encoding: OtlpEncoding | undefined, extraHeaders: Readonly<Record<string, string>> | undefined): GatewayResponse {
  const enc = encoding ?? 'json';
  const code = GRPC_CODE_BY_STATUS[err.status] ?? GrpcCode.INTERNAL;
  const details = err.details.length > 0 ? ` (${err.details.slice(0, 10).join('; ')})` : '';
  const body = encodeOtlpStatus(`${err.code}: ${err.message}${details}`, enc, code);
  const headers = extraHeaders === undefined ? RESPONSE_HEADERS[enc] : { ...RESPONSE_HEADERS[enc], ...extraHeaders };
  return { status: err.status, headers, body };
}

export function unsupportedOtlpContentType(contentType: string): HeliosError {
  return new HeliosError('HLS_ERR_UNSUPPORTED_MEDIA_TYPE', `content-type "${contentType}" is not OTLP/HTTP; use application/x-protobuf or application/json`);
}
