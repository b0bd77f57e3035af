import type { HeliosEvent } from '@helios/core';
import { decodeJsonRequest } from './json-decoder.js';
import { toHeliosError } from './malformed.js';
import { decodeProtobufRequest, type OtlpSignal } from './protobuf-decoder.js';
import type { OtlpEncoding } from './response.js';
import { DecodeAccumulator, type DecodeContext } from './translate.js';

export { encodeOtlpResponse, encodeOtlpStatus, GrpcCode, type OtlpEncoding, type OtlpRejections } from './response.js';
export type { OtlpSignal } from './protobuf-decoder.js';
export type { DecodeContext as OtlpDecodeContext } from './translate.js';

export interface OtlpDecodeResult {
  events: HeliosEvent[];
  /** Records (log records, spans, data points) that could not be translated; the rest are in `events`. */
  rejected: number;
  /** The first rejection with its location, for the partial-success `error_message`; set when rejected > 0. */
  rejectionMessage?: string;
}

/**
 * Translate one OTLP/HTTP request body (Export{Logs,Trace,Metrics}ServiceRequest, protobuf or
 * OTLP/JSON, already decompressed) into Helios events.
 *
 * Throws HeliosError('HLS_ERR_BODY_MALFORMED') naming where the body stops being a valid request
 * (`resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano: wire type length-delimited, expected fixed64 (field 7)`);
 * records that parse but cannot become events (bad id length, missing start time) are counted in
 * `rejected` instead, for the OTLP partial-success response. Throws HeliosError('HLS_ERR_TOO_MANY_EVENTS')
 * when the request carries more than `context.maxRecords` records.
 */
export function decodeOtlp(signal: OtlpSignal, body: Uint8Array, encoding: OtlpEncoding, context: DecodeContext): OtlpDecodeResult {
  const acc = new DecodeAccumulator(context.maxRecords);
  try {
    if (encoding === 'protobuf') decodeProtobufRequest(signal, body, context, acc);
    else decodeJsonRequest(signal, body, context, acc);
  } catch (err) {
    throw toHeliosError(err);
  }
  const rejectionMessage = acc.rejectionMessage();
  return rejectionMessage === undefined ? { events: acc.events, rejected: acc.rejected } : { events: acc.events, rejected: acc.rejected, rejectionMessage };
}
