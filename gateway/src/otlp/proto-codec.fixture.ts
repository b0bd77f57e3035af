/**
 * Test-only: the protobufjs static code that @opentelemetry/otlp-proto-exporter-base@0.51.1
 * generated from opentelemetry-proto. Used to craft protobuf requests the SDK would never send
 * (bad id lengths, summaries) and to read our response bodies back with an independent decoder.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface ProtoType {
  fromObject(object: Record<string, unknown>): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options?: Record<string, unknown>): Record<string, unknown>;
}

interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: Record<'trace' | 'logs' | 'metrics', { v1: Record<string, ProtoType> }>;
    };
  };
}

const root = require('@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js') as GeneratedRoot;
const collector = root.opentelemetry.proto.collector;

export const protoTypes = {
  traceRequest: collector.trace.v1.ExportTraceServiceRequest,
  logsRequest: collector.logs.v1.ExportLogsServiceRequest,
  metricsRequest: collector.metrics.v1.ExportMetricsServiceRequest,
  traceResponse: collector.trace.v1.ExportTraceServiceResponse,
  logsResponse: collector.logs.v1.ExportLogsServiceResponse,
  metricsResponse: collector.metrics.v1.ExportMetricsServiceResponse,
};

/** Encode a request given in protobufjs object form (bytes as Uint8Array, int64 as number or string). */
export function encodeProto(type: ProtoType, object: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(object)).finish();
}

export function decodeProto(type: ProtoType, bytes: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(bytes), { longs: String, defaults: false });
}

export const hexBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
