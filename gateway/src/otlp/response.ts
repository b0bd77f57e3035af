import type { OtlpSignal } from './protobuf-decoder.js';

/**
 * OTLP/HTTP response bodies, written by hand (a few bytes; no reason to load a schema for them):
 * - Export{Logs,Trace,Metrics}ServiceResponse { ExportXPartialSuccess partial_success = 1 }
 *   ExportXPartialSuccess { int64 rejected_<records> = 1; string error_message = 2 }
 * - google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3 }
 */

export type OtlpEncoding = 'protobuf' | 'json';

/** What the HTTP layer needs from a decode to answer: how many records were rejected and why. */
export interface OtlpRejections {
  rejected: number;
  rejectionMessage?: string;
}

const REJECTED_FIELD: Record<OtlpSignal, string> = {
  logs: 'rejectedLogRecords',
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
};

/** gRPC status codes the OTLP/HTTP error bodies carry (google.rpc.Code). */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNAUTHENTICATED: 16,
  UNAVAILABLE: 14,
  INTERNAL: 13,
} as const;

class ByteWriter {
  private readonly parts: number[] = [];

  varint(value: number): void {
    // Non-negative integers up to 2^53; division keeps the bits above 32 that `>>>` would drop.
    let rest = value;
    while (rest >= 0x80) {
      this.parts.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.parts.push(rest);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, 2);
    this.varint(value.length);
    for (const byte of value) this.parts.push(byte);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const textEncoder = new TextEncoder();

/**
 * The Export*ServiceResponse body. `partial_success` is set only when records were rejected: the
 * specification asks servers to leave it unset on full success.
 */
export function encodeOtlpResponse(signal: OtlpSignal, result: OtlpRejections, encoding: OtlpEncoding): Uint8Array {
  const rejected = Math.max(0, Math.floor(result.rejected));
  const message = rejected > 0 ? (result.rejectionMessage ?? '') : '';
  if (encoding === 'json') {
    if (rejected === 0) return textEncoder.encode('{}');
    // int64 as a decimal string, as OTLP/JSON writes 64-bit integers.
    const partialSuccess: Record<string, string> = { [REJECTED_FIELD[signal]]: String(rejected) };
    if (message !== '') partialSuccess.errorMessage = message;
    return textEncoder.encode(JSON.stringify({ partialSuccess }));
  }
  if (rejected === 0) return new Uint8Array(0);
  const inner = new ByteWriter();
  inner.tag(1, 0);
  inner.varint(rejected);
  if (message !== '') inner.bytes(2, textEncoder.encode(message));
  const outer = new ByteWriter();
  outer.bytes(1, inner.finish());
  return outer.finish();
}

/** A google.rpc.Status body for an error response, in the request's encoding. */
export function encodeOtlpStatus(message: string, encoding: OtlpEncoding, code: number = GrpcCode.INVALID_ARGUMENT): Uint8Array {
  if (encoding === 'json') return textEncoder.encode(JSON.stringify({ code, message }));
  const writer = new ByteWriter();
  if (code !== 0) {
    writer.tag(1, 0);
    writer.varint(code);
  }
  if (message !== '') writer.bytes(2, textEncoder.encode(message));
  return writer.finish();
}
