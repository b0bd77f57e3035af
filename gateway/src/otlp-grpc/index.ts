import type { OtlpSignal } from '../otlp/index.js';

export { createOtlpGrpcTransport, type OtlpGrpcTransport, type OtlpGrpcTransportOptions } from './transport.js';
export { GrpcStatus, OTLP_GRPC_METHODS } from './status.js';

/** Route label of OTLP/gRPC calls in helios_http_requests_total and helios_ingestion_latency_seconds, apart from OTLP/HTTP's `traces`, `logs`, `metrics`. */
export const OTLP_GRPC_ROUTES: Readonly<Record<OtlpSignal, string>> = Object.freeze({ traces: 'grpc_traces', logs: 'grpc_logs', metrics: 'grpc_metrics' });
