import { constants as h2, createServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HeliosError } from '@helios/core';
import type { BodyBudget } from '../body-budget.js';
import type { GatewayRequest, GatewayResponse, RequestHandler } from '../http/transport.js';
import { grpcCodeOfHttpStatus, GrpcStatus, isRetryableGrpcCode, OTLP_GRPC_METHODS, readStatus, statusDetailsWithRetryInfo } from './status.js';

/**
 * OTLP/gRPC receiver: unary gRPC written directly on node:http2 (gRPC over HTTP/2 as
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md describes it), for the three Export
 * methods only. It replaced @grpc/grpc-js's server, which measured the same within noise (bench/RESULTS.md,
 * OTLP/gRPC) but answers zstd and snappy UNIMPLEMENTED and inflates outside the gateway's memory budget.
 * Here the message goes through the gateway's own body path:
 * - the raw frames are reserved in the body budget (gateway.maxInFlightBodyBytes) as they arrive, and
 *   the message's grpc-encoding (gzip, deflate, zstd, snappy) is undone by the gateway's bounded
 *   decoders, inside the same budget and gateway.maxInflatedBytes: a compression bomb gets an error;
 * - each call becomes the GatewayRequest an OTLP/HTTP protobuf POST would be (`protocol: 'grpc'`), so
 *   auth (`authorization: Bearer` / `x-api-key` metadata), limits, translation, the bus publish (OK only
 *   after the bus took every record), partial success and metrics are the HTTP path's.
 * The answer: OK with the Export*ServiceResponse in one uncompressed message and `grpc-status: 0` in
 * the trailers; an error as a trailers-only response (`grpc-status`, `grpc-message`), with
 * google.rpc.RetryInfo in `grpc-status-details-bin` on the retryable UNAVAILABLE and RESOURCE_EXHAUSTED,
 * as the OTLP specification asks. Framing errors, unknown methods and encodings get a gRPC error too.
 */

export interface OtlpGrpcTransportOptions {
  host: string;
  port: number;
  /** Largest message as it is on the wire (gateway.maxBodyBytes). */
  maxBodyBytes: number;
  /** RetryInfo.retry_delay on UNAVAILABLE / RESOURCE_EXHAUSTED when the answer names no Retry-After. */
  retryAfterSeconds: number;
  /** How long close() lets calls in flight finish before cutting connections. */
  shutdownTimeoutMs?: number;
  bodyBudget: BodyBudget;
  handler: RequestHandler;
  /** Count a refusal the transport makes itself (framing, size, budget), as the gateway counts its own. */
  refused(err: HeliosError): void;
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

/** Message encodings the gateway decodes (ingest-body.ts), announced in grpc-accept-encoding. */
const ENCODINGS: ReadonlySet<string> = new Set(['identity', 'gzip', 'deflate', 'zstd', 'snappy']);
const ACCEPT_ENCODING = [...ENCODINGS].join(',');
const PREFIX_BYTES = 5;
/** grpc-timeout: at most 8 digits and a unit (PROTOCOL-HTTP2.md). */
const TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
/** Longer than any timer can wait (2^31-1 ms); a deadline beyond it is no deadline. */
const MAX_TIMER_MS = 2_147_483_647;

const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });

/** grpc-message: percent-encoded UTF-8, every byte outside printable ASCII and '%' itself. */
function percentEncode(message: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** One metadata value as text ('' when absent); repeated values are joined as HTTP/2 would fold them. */
function headerText(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return value === undefined ? '' : Array.isArray(value) ? value.join(',') : value;
}

/** The grpc-timeout of a call in ms; undefined without one; a HeliosError when it is malformed. */
function deadlineMs(header: string): number | undefined {
  if (header === '') return undefined;
  const match = TIMEOUT.exec(header);
  if (match === null) throw new HeliosError('HLS_ERR_BODY_MALFORMED', `grpc-timeout "${header.slice(0, 40)}" is malformed (1 to 8 digits and a unit of H, M, S, m, u, n)`);
  const ms = Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!;
  return ms > MAX_TIMER_MS ? undefined : ms;
}

export function createOtlpGrpcTransport(options: OtlpGrpcTransportOptions): OtlpGrpcTransport {
  const { bodyBudget, maxBodyBytes } = options;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const sessions = new Set<Http2Session>();
  // Calls answered or not yet: close() waits for them (at most shutdownTimeoutMs).
  let calls = 0;
  let idle: (() => void) | undefined;
  let stopping = false;

  const server = createServer({
    // Exporters send batches of up to a few MB: a window of 1 MiB per stream (8 MiB per connection) takes one in a few round trips.
    settings: { initialWindowSize: 1 << 20, maxConcurrentStreams: 256, maxHeaderListSize: 64 * 1024 },
    maxSessionMemory: 64,
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', () => session.destroy());
    if (stopping) session.close();
    else session.setLocalWindowSize(8 << 20);
  });

  /** A trailers-only answer: the status in the one HEADERS frame that ends the stream. */
  function sendError(stream: ServerHttp2Stream, code: number, message: string, retryAfterSeconds?: number): void {
    if (stream.headersSent || stream.destroyed) return;
    const headers: Record<string, string | number> = { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': ACCEPT_ENCODING, 'grpc-status': String(code), 'grpc-message': percentEncode(message) };
    if (isRetryableGrpcCode(code)) headers['grpc-status-details-bin'] = statusDetailsWithRetryInfo(code, message, retryAfterSeconds ?? options.retryAfterSeconds).toString('base64');
    stream.respond(headers, { endStream: true });
    // The client may still be sending a body nobody will read: end the stream (NO_ERROR, as the protocol allows after a complete response).
    if (!stream.readableEnded) stream.close(h2.NGHTTP2_NO_ERROR);
  }

  /** A refusal of the transport's own, counted like the gateway's. */
  function refuse(stream: ServerHttp2Stream, err: HeliosError): void {
    options.refused(err);
    sendError(stream, grpcCodeOfHttpStatus(err.status), `${err.code}: ${err.message}`);
  }

  /** The gateway's answer as gRPC: OK with the response message, or the google.rpc.Status it built. */
  function answer(stream: ServerHttp2Stream, response: GatewayResponse): void {
    if (stream.headersSent || stream.destroyed) return;
    const body = response.body === undefined ? Buffer.alloc(0) : typeof response.body === 'string' ? Buffer.from(response.body) : Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength);
    if (response.status !== 200) {
      const status = readStatus(body);
      const code = status !== undefined && status.code !== 0 ? status.code : grpcCodeOfHttpStatus(response.status);
      const retryAfter = Number(response.headers?.['retry-after']);
      sendError(stream, code, status !== undefined && status.message !== '' ? status.message : `HTTP ${response.status}`, Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
      return;
    }
    const message = Buffer.allocUnsafe(PREFIX_BYTES + body.length);
    message[0] = 0; // not compressed
    message.writeUInt32BE(body.length, 1);
    body.copy(message, PREFIX_BYTES);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': ACCEPT_ENCODING }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
    stream.end(message);
  }

  function callEnded(): void {
    calls--;
    if (calls === 0) idle?.();
  }

  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    calls++;
    let ended = false;
    let dispatched = false;
    let held = 0; // bytes of this call reserved in the body budget
    let timer: NodeJS.Timeout | undefined;
    const release = () => {
      bodyBudget.release(held);
      held = 0;
    };
    stream.once('close', () => {
      ended = true;
      if (timer !== undefined) clearTimeout(timer);
      // Once dispatched, the handler holds the message until it settles, even if the client left.
      if (!dispatched) release();
      callEnded();
    });
    stream.on('error', () => stream.destroy());

    const path = headers[':path'] ?? '';
    const signal = OTLP_GRPC_METHODS.get(path);
    const contentType = headerText(headers, 'content-type');
    if (!contentType.startsWith('application/grpc')) {
      // Not gRPC at all: an HTTP answer, as the protocol asks (415).
      stream.respond({ ':status': 415, 'content-type': 'text/plain' }, { endStream: false });
      stream.end(`content-type "${contentType.slice(0, 80)}" is not gRPC (application/grpc)\n`);
      return;
    }
    const subtype = contentType.split(';', 1)[0]!.trim();
    if (subtype !== 'application/grpc' && subtype !== 'application/grpc+proto') return sendError(stream, GrpcStatus.UNIMPLEMENTED, `content-type "${contentType.slice(0, 80)}": only the protobuf codec (application/grpc, application/grpc+proto) is served`);
    if (signal === undefined || headers[':method'] !== 'POST') return sendError(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${String(path).slice(0, 120)}: this server has the OTLP Export methods of TraceService, LogsService and MetricsService`);
    const encoding = headerText(headers, 'grpc-encoding').trim().toLowerCase() || 'identity';
    if (!ENCODINGS.has(encoding)) return sendError(stream, GrpcStatus.UNIMPLEMENTED, `grpc-encoding "${encoding.slice(0, 40)}" is not supported (use ${ACCEPT_ENCODING})`);
    let deadline: number | undefined;
    try {
      deadline = deadlineMs(headerText(headers, 'grpc-timeout'));
    } catch (err) {
      return refuse(stream, err as HeliosError);
    }
    if (stopping) return sendError(stream, GrpcStatus.UNAVAILABLE, 'HLS_ERR_SHUTTING_DOWN: the gateway is shutting down');
    if (deadline !== undefined) timer = setTimeout(() => sendError(stream, GrpcStatus.DEADLINE_EXCEEDED, `HLS_ERR_DEADLINE_EXCEEDED: grpc-timeout of ${deadline} ms passed before the records were taken`), deadline).unref();

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    stream.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      // The 5-byte prefix and the message, as sent: the body limit counts what the client sends.
      if (size > PREFIX_BYTES + maxBodyBytes) {
        refused = true;
        chunks.length = 0;
        return refuse(stream, new HeliosError('HLS_ERR_BODY_TOO_LARGE', `request message exceeds ${maxBodyBytes} bytes (gateway.maxBodyBytes)`));
      }
      if (!bodyBudget.tryReserve(chunk.length)) {
        refused = true;
        chunks.length = 0;
        return refuse(stream, new HeliosError('HLS_ERR_OVERLOADED', `request bodies in flight hold ${bodyBudget.inUse} bytes (gateway.maxInFlightBodyBytes ${bodyBudget.limit})`));
      }
      held += chunk.length;
      chunks.push(chunk);
    });
    stream.once('end', () => {
      if (refused || ended) return;
      const frames = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      chunks.length = 0;
      let message: Buffer;
      let compressed: boolean;
      try {
        [message, compressed] = unaryMessage(frames);
        if (compressed && encoding === 'identity') throw new HeliosError('HLS_ERR_BODY_MALFORMED', 'the message is marked compressed but the call has no grpc-encoding');
      } catch (err) {
        return refuse(stream, err as HeliosError);
      }
      const request: GatewayRequest = {
        method: 'POST',
        path: signal === 'traces' ? '/v1/traces' : signal === 'logs' ? '/v1/logs' : '/v1/metrics',
        query: '',
        headers: {
          'content-type': 'application/x-protobuf',
          // The gateway undoes it inside the body budget and gateway.maxInflatedBytes, as for Content-Encoding.
          'content-encoding': compressed ? encoding : '',
          authorization: headerText(headers, 'authorization'),
          'x-api-key': headerText(headers, 'x-api-key'),
        },
        body: message,
        protocol: 'grpc',
      };
      dispatched = true;
      const settle = (response: GatewayResponse) => {
        release();
        answer(stream, response);
      };
      const response = options.handler(request);
      if (!(response instanceof Promise)) return settle(response);
      response.then(settle, (err: unknown) => {
        release();
        sendError(stream, GrpcStatus.INTERNAL, `internal error: ${(err as Error).message}`);
      });
    });
  });

  let listening: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  const stopListening = (): Promise<void> => {
    stopping = true;
    // GOAWAY on every connection: calls in flight finish, new ones go elsewhere.
    for (const session of sessions) session.close();
    listening ??= new Promise<void>((resolve) => server.close(() => resolve()));
    return Promise.resolve();
  };

  return {
    name: 'grpc',
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
          reject(err.code === 'EADDRINUSE' ? new HeliosError('HLS_ERR_PORT_IN_USE', `could not listen on ${options.host}:${options.port} for OTLP/gRPC: the port is in use; choose another with --otlp-grpc-port or gateway.otlpGrpcPort`, { cause: err }) : err);
        });
        server.listen({ port: options.port, host: options.host }, () => resolve((server.address() as AddressInfo).port));
      }),
    stopListening,
    close() {
      closed ??= (async () => {
        await stopListening();
        if (calls > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([new Promise<void>((resolve) => (idle = resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdownTimeoutMs).unref()))]);
          clearTimeout(timer);
        }
        for (const session of sessions) session.destroy();
        await listening;
      })();
      return closed;
    },
  };
}

/**
 * The one message of a unary call: a 5-byte prefix (compressed flag, big-endian length) and exactly
 * that many bytes. Anything else (no message, a cut message, a second one, a flag other than 0 or 1)
 * is a malformed request.
 */
export function unaryMessage(frames: Buffer): [message: Buffer, compressed: boolean] {
  if (frames.length < PREFIX_BYTES) throw new HeliosError('HLS_ERR_BODY_MALFORMED', frames.length === 0 ? 'the call carries no request message' : `the request has ${frames.length} bytes, fewer than a message prefix (5)`);
  const flag = frames[0]!;
  if (flag > 1) throw new HeliosError('HLS_ERR_BODY_MALFORMED', `the message prefix has compressed flag ${flag} (only 0 or 1)`);
  const length = frames.readUInt32BE(1);
  const rest = frames.length - PREFIX_BYTES;
  if (rest < length) throw new HeliosError('HLS_ERR_BODY_MALFORMED', `the message prefix announces ${length} bytes but ${rest} came`);
  if (rest > length) throw new HeliosError('HLS_ERR_BODY_MALFORMED', `${rest - length} bytes follow the request message: a unary call carries one message`);
  return [frames.subarray(PREFIX_BYTES), flag === 1];
}
