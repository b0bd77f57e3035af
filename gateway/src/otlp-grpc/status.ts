import type { OtlpSignal } from '../otlp/index.js';

/**
 * OTLP/gRPC on the wire: the service paths, and the google.rpc.Status / RetryInfo messages the
 * specification asks servers to return on failures (https://opentelemetry.io/docs/specs/otlp/#failures-1).
 * Written and read by hand: a handful of bytes, no schema to load.
 */

/** Full method paths of the three OTLP Export services. */
export const OTLP_GRPC_METHODS: ReadonlyMap<string, OtlpSignal> = new Map<string, OtlpSignal>([
  ['/opentelemetry.proto.collector.trace.v1.TraceService/Export', 'traces'],
  ['/opentelemetry.proto.collector.logs.v1.LogsService/Export', 'logs'],
  ['/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', 'metrics'],
]);

/** gRPC status codes used here (google.rpc.Code). */
export const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** The code for an HTTP status of the gateway's answer, for answers that carry no Status body. */
export function grpcCodeOfHttpStatus(status: number): number {
  switch (status) {
    case 400:
    case 413:
    case 415:
      return GrpcStatus.INVALID_ARGUMENT;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 404:
      return GrpcStatus.NOT_FOUND;
    case 405:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 503:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.INTERNAL;
  }
}

/** Retryable per the OTLP specification; RESOURCE_EXHAUSTED only with RetryInfo, which Helios always sends with it. */
export function isRetryableGrpcCode(code: number): boolean {
  return code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.RESOURCE_EXHAUSTED;
}

/** google.rpc.Status { int32 code = 1; string message = 2 } as the OTLP/HTTP error body carries it; undefined when the bytes are not one. */
export function readStatus(bytes: Uint8Array): { code: number; message: string } | undefined {
  let code = 0;
  let message = '';
  let i = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35 && i < bytes.length; shift += 7) {
      const byte = bytes[i++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  };
  while (i < bytes.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    if (tag === 0x08) {
      const value = varint();
      if (value === undefined) return undefined;
      code = value;
    } else if (tag === 0x12) {
      const length = varint();
      if (length === undefined || i + length > bytes.length) return undefined;
      message = Buffer.from(bytes.buffer, bytes.byteOffset + i, length).toString('utf8');
      i += length;
    } else {
      return undefined;
    }
  }
  return { code, message };
}

const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

function lengthDelimited(field: number, bytes: ArrayLike<number>): number[] {
  return [(field << 3) | 2, ...varintBytes(bytes.length), ...Array.from(bytes)];
}

/**
 * `grpc-status-details-bin`: google.rpc.Status { code, message, details: [Any(google.rpc.RetryInfo
 * { retry_delay: Duration { seconds } })] }. OTLP exporters wait `retry_delay` before retrying.
 */
export function statusDetailsWithRetryInfo(code: number, message: string, retryAfterSeconds: number): Buffer {
  const duration = [0x08, ...varintBytes(retryAfterSeconds)]; // Duration.seconds = 1
  const retryInfo = lengthDelimited(1, duration); // RetryInfo.retry_delay = 1
  const any = [...lengthDelimited(1, Buffer.from(RETRY_INFO_TYPE_URL)), ...lengthDelimited(2, retryInfo)];
  return Buffer.from([0x08, ...varintBytes(code), ...lengthDelimited(2, Buffer.from(message, 'utf8')), ...lengthDelimited(3, any)]);
}
