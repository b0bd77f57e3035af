import { Metadata, Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { GatewayRequest, GatewayResponse, RequestHandler } from '../http/transport.js';
import type { OtlpSignal } from '../otlp/index.js';
import { grpcCodeOfHttpStatus, isRetryableGrpcCode, OTLP_GRPC_METHODS, readStatus, statusDetailsWithRetryInfo } from './status.js';

/**
 * OTLP/gRPC receiver (@grpc/grpc-js): the three Export services, registered with raw Buffer
 * (de)serializers so the protobuf request goes straight to the gateway's own decoder (no protobufjs at
 * run time). Each call becomes the same GatewayRequest an OTLP/HTTP protobuf POST would be, marked
 * `protocol: 'grpc'`, and goes through the gateway's one handler: auth, limits, translation, the bus
 * publish (OK only after the bus took every record), metrics and shutdown accounting are shared.
 *
 * The handler's answer is turned back into gRPC: 200 is OK with the Export*ServiceResponse
 * (partial_success when records were rejected); an error carries the google.rpc.Status the HTTP path
 * built (its code and message), and the retryable UNAVAILABLE / RESOURCE_EXHAUSTED also carry
 * google.rpc.RetryInfo in `grpc-status-details-bin`, as the OTLP specification asks.
 *
 * grpc-js itself undoes gzip and deflate message compression (capped at maxMessageBytes while
 * inflating); other grpc-encodings (zstd, snappy) are answered UNIMPLEMENTED by grpc-js before Helios
 * sees the call. The Collector's `otlp` exporter compresses with gzip by default.
 */

export interface OtlpGrpcTransportOptions {
  host: string;
  port: number;
  /** Largest message, compressed on the wire and after inflating (grpc.max_receive_message_length). */
  maxMessageBytes: number;
  /** RetryInfo.retry_delay on UNAVAILABLE / RESOURCE_EXHAUSTED when the answer names no Retry-After. */
  retryAfterSeconds: number;
  /** How long close() lets calls in flight finish before cutting connections. */
  shutdownTimeoutMs?: number;
  handler: RequestHandler;
}

export interface OtlpGrpcTransport {
  readonly name: 'grpc';
  /** Resolves with the bound port. */
  listen(): Promise<number>;
  /** Stop accepting connections and calls (GOAWAY); calls in flight finish. */
  stopListening(): Promise<void>;
  /** Wait for calls in flight (at most shutdownTimeoutMs), then close every connection. Idempotent. */
  close(): Promise<void>;
}

const passThrough = (bytes: Buffer): Buffer => bytes;

function serviceOf(path: string): ServiceDefinition {
  return {
    Export: { path, requestStream: false, responseStream: false, requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough, originalName: 'export' },
  } as ServiceDefinition;
}

function metadataText(metadata: Metadata, key: string): string {
  const values = metadata.get(key);
  return values.length > 0 && typeof values[0] === 'string' ? values[0] : '';
}

/** host:port as grpc-js binds it (IPv6 literals in brackets). */
function bindAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function createOtlpGrpcTransport(options: OtlpGrpcTransportOptions): OtlpGrpcTransport {
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    // Export responses are a few bytes; this bounds nothing in practice but keeps the default explicit.
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;

  function answer(response: GatewayResponse, callback: sendUnaryData<Buffer>): void {
    const body = response.body === undefined ? Buffer.alloc(0) : typeof response.body === 'string' ? Buffer.from(response.body) : Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength);
    if (response.status === 200) {
      callback(null, body);
      return;
    }
    const status = readStatus(body);
    const code = status !== undefined && status.code !== 0 ? status.code : grpcCodeOfHttpStatus(response.status);
    const message = status !== undefined && status.message !== '' ? status.message : `HTTP ${response.status}`;
    const trailers = new Metadata();
    if (isRetryableGrpcCode(code)) {
      const retryAfter = Number(response.headers?.['retry-after'] ?? options.retryAfterSeconds);
      trailers.set('grpc-status-details-bin', statusDetailsWithRetryInfo(code, message, Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter : options.retryAfterSeconds));
    }
    callback({ code, details: message, metadata: trailers }, null);
  }

  function exportHandler(signal: OtlpSignal) {
    const path = `/v1/${signal}`;
    return function otlpGrpcExport(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
      const request: GatewayRequest = {
        method: 'POST',
        path,
        query: '',
        headers: {
          'content-type': 'application/x-protobuf',
          // grpc-js has already undone the message's grpc-encoding.
          'content-encoding': '',
          authorization: metadataText(call.metadata, 'authorization'),
          'x-api-key': metadataText(call.metadata, 'x-api-key'),
        },
        body: call.request,
        protocol: 'grpc',
      };
      const response = options.handler(request);
      if (response instanceof Promise) response.then((r) => answer(r, callback), (err: unknown) => callback({ code: 13, details: `internal error: ${(err as Error).message}` }, null));
      else answer(response, callback);
    };
  }

  for (const [path, signal] of OTLP_GRPC_METHODS) server.addService(serviceOf(path), { Export: exportHandler(signal) } as UntypedServiceImplementation);

  let shutdown: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  const beginShutdown = (): Promise<void> => (shutdown ??= new Promise<void>((resolve) => server.tryShutdown(() => resolve())));

  return {
    name: 'grpc',
    listen() {
      return new Promise<number>((resolve, reject) =>
        server.bindAsync(bindAddress(options.host, options.port), ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
      );
    },
    async stopListening() {
      void beginShutdown();
    },
    close() {
      closed ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), shutdownTimeoutMs).unref()));
        const outcome = await Promise.race([beginShutdown().then(() => 'done' as const), timedOut]);
        clearTimeout(timer);
        if (outcome === 'timeout') server.forceShutdown();
      })();
      return closed;
    },
  };
}
