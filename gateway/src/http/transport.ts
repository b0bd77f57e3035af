import type { BodyBudget } from '../body-budget.js';

/**
 * The gateway's HTTP layer is split in two: a transport (uWebSockets.js, or node:http where its binary
 * does not load) that only moves bytes, and one request handler that does everything else. Both
 * transports therefore behave identically, and tests can run the same suite against each.
 */
export interface GatewayRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string; the uWS transport reads it for GET and HEAD only (no other route uses one). */
  query: string;
  /** Lower-case names; only the headers the gateway reads. */
  headers: RequestHeaders;
  body: Buffer;
  /**
   * True when `body` is lent by the transport and only valid until the handler returns (uWS reuses
   * that memory; reads after it see an empty buffer): a handler that reads it later copies it first.
   */
  bodyBorrowed?: boolean;
  /** Set by the OTLP/gRPC receiver (../otlp-grpc): the call is routed and counted as gRPC. */
  protocol?: 'grpc';
}

export interface RequestHeaders {
  'content-type': string;
  'content-encoding': string;
  authorization: string;
  'x-api-key': string;
  /** Where a live tail resumes (server-sent events); transports read it on GET only (absent: none). */
  'last-event-id'?: string;
  /** What the client can decode (the console's static files are served compressed); GET only (absent: identity). */
  'accept-encoding'?: string;
}

export const HEADER_NAMES = ['content-type', 'content-encoding', 'authorization', 'x-api-key', 'last-event-id', 'accept-encoding'] as const;

export interface GatewayResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /**
   * A streamed body (server-sent events) instead of `body`: the transport sends the status and headers,
   * then hands `stream` a ResponseStream to write to for as long as it likes. Called once, after the
   * handler returned, outside the transport's request callback.
   */
  stream?: (out: ResponseStream) => void;
}

/** The writing end of a streamed response. Writes after the client went away or after end() are dropped. */
export interface ResponseStream {
  /**
   * Send a chunk. False when the transport now holds data the client has not taken (backpressure, or the
   * client is gone): the chunk is kept, but the writer should wait for `backpressured` to clear before more.
   */
  write(chunk: string): boolean;
  /** True from a write that returned false until the client has taken the held data. */
  readonly backpressured: boolean;
  /** Finish the response (idempotent). */
  end(): void;
  /** `listener` runs once if the client goes away (or the transport closes) before end(). */
  onClose(listener: () => void): void;
}

/**
 * A plain response when the request completed synchronously (send it at once, from the callback that
 * delivered the body), else a promise. Never throws.
 */
export type RequestHandler = (request: GatewayRequest) => GatewayResponse | Promise<GatewayResponse>;

export interface TransportOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  /**
   * Whether anything reads `authorization` and `x-api-key` (auth is on); when false a transport may
   * leave them empty instead of reading them per request. Default true.
   */
  readsCredentials?: boolean;
  /** Paths taking POST (the ingest routes) that a transport may route natively instead of reading method and path per request. */
  postPaths?: readonly string[];
  /** Share the port with other processes (SO_REUSEPORT). Off: a port in use fails listen() with HLS_ERR_PORT_IN_USE. */
  reusePort?: boolean;
  handler: RequestHandler;
  /** Answer for a body over the limit, sent without reading the rest. */
  tooLarge: () => GatewayResponse;
  /**
   * Memory budget for bodies in flight: each chunk is reserved as it arrives, and a request's bytes are
   * released once its response settles (or the client went away before the body was complete).
   */
  bodyBudget: BodyBudget;
  /** Answer for a body that does not fit the budget (503 + Retry-After), sent without reading the rest. */
  overBudget: () => GatewayResponse;
}

export interface HttpTransport {
  readonly name: 'uws' | 'node';
  /** Resolves with the bound port. */
  listen(): Promise<number>;
  /** Stop accepting connections; requests in flight finish. */
  stopListening(): Promise<void>;
  /** Close everything, including idle keep-alive connections. */
  close(): Promise<void>;
}

export const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 405: 'Method Not Allowed',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};
