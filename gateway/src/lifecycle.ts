import { HeliosError, type HeliosConfig, type Logger } from '@helios/core';
import type { BodyBudget } from './body-budget.js';
import { createNodeTransport } from './http/node-transport.js';
import type { GatewayResponse, HttpTransport, RequestHandler, TransportOptions } from './http/transport.js';
import { createUwsTransport, loadUws } from './http/uws-transport.js';
import { createOtlpGrpcTransport } from './otlp-grpc/index.js';

/** Requests in flight and whether stop() began: read and written by the gateway's handler on every request. */
export interface RequestsInFlight {
  count: number;
  stopping: boolean;
  /** A request ended: call after its response is final (wakes a stop() waiting to drain). */
  ended(): void;
}

export interface GatewayLifecycle {
  readonly transport: 'uws' | 'node';
  readonly requests: RequestsInFlight;
  /** Bind the main port, the OTLP/HTTP default port and the OTLP/gRPC port (those two only when enabled and free). */
  start(): Promise<{ port: number; otlpPort: number | undefined; otlpGrpcPort: number | undefined }>;
  /** Stop accepting, run `beforeDrain`, wait for requests in flight, close every listener. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The listeners of a gateway: which HTTP transport serves (uWS or node:http), on which ports, and a
 * shutdown that loses nothing already accepted: listeners stop first, requests in flight finish (their
 * events reach the bus), then connections close.
 */
export function createGatewayLifecycle(options: {
  config: HeliosConfig['gateway'];
  logger: Logger;
  handler: RequestHandler;
  bodyBudget: BodyBudget;
  /** Whether anything reads credentials per request (API-key auth or the metrics key). */
  readsCredentials: boolean;
  /** Paths taking POST that a transport may route natively. */
  postPaths: readonly string[];
  /** A HeliosError as the response the gateway gives it (for refusals a transport answers itself). */
  errorResponse(err: HeliosError): GatewayResponse;
  /** After listeners stopped, before waiting for requests in flight (e.g. end live tails). */
  beforeDrain?: () => void;
}): GatewayLifecycle {
  const { config, logger, bodyBudget } = options;
  let idle: (() => void) | undefined;
  const requests: RequestsInFlight = {
    count: 0,
    stopping: false,
    ended() {
      this.count--;
      // After the transport's send (a synchronous answer is sent right after the handler returns; an
      // async one in the microtask after the promise settles), both before setImmediate.
      if (this.count === 0 && idle !== undefined) setImmediate(idle);
    },
  };

  const transportOptions = (port: number): TransportOptions => ({
    host: config.host, port, reusePort: config.reusePort, maxBodyBytes: config.maxBodyBytes, readsCredentials: options.readsCredentials, postPaths: options.postPaths, handler: options.handler,
    tooLarge: () => options.errorResponse(new HeliosError('HLS_ERR_BODY_TOO_LARGE', `request body exceeds ${config.maxBodyBytes} bytes`)),
    bodyBudget,
    overBudget: () => options.errorResponse(new HeliosError('HLS_ERR_OVERLOADED', `request bodies in flight hold ${bodyBudget.inUse} bytes (gateway.maxInFlightBodyBytes ${bodyBudget.limit})`)),
  });

  let transportName: 'uws' | 'node' = 'node';
  const makeTransport = (port: number): HttpTransport => {
    if (config.transport !== 'node') {
      const loaded = loadUws();
      if ('uws' in loaded) {
        transportName = 'uws';
        return createUwsTransport(loaded.uws, transportOptions(port));
      }
      if (config.transport === 'uws') throw loaded.error;
      // E.g. uWS's binaries for Node 22 and 24 need glibc 2.38: on an older distribution, auto serves
      // over node:http rather than not at all, and says so once with the loader's reason.
      logger.warn(
        { err: loaded.error.message, node: process.version, abi: process.versions.modules },
        'uWebSockets.js did not load on this platform; gateway.transport auto falls back to node:http (set it to uws to make this an error)',
      );
    }
    transportName = 'node';
    return createNodeTransport(transportOptions(port));
  };

  let transports: Array<Pick<HttpTransport, 'listen' | 'stopListening' | 'close'>> = [];
  let stopped: Promise<void> | undefined;
  return {
    get transport() {
      return transportName;
    },
    requests,
    async start() {
      const main = makeTransport(config.port);
      transports = [main];
      const port = await main.listen();
      let otlpPort: number | undefined;
      if (config.otlpPort >= 0 && config.otlpPort !== port) {
        const otlp = makeTransport(config.otlpPort);
        try {
          otlpPort = await otlp.listen();
          transports.push(otlp);
        } catch (err) {
          logger.warn({ err: (err as Error).message, port: config.otlpPort }, 'could not bind the OTLP default port; OTLP is still served on the main port');
        }
      }
      let otlpGrpcPort: number | undefined;
      if (config.otlpGrpcPort >= 0) {
        const grpc = createOtlpGrpcTransport({
          host: config.host, port: config.otlpGrpcPort, maxBodyBytes: config.maxBodyBytes, retryAfterSeconds: config.retryAfterSeconds, bodyBudget, handler: options.handler,
          refused: (err) => void options.errorResponse(err),
        });
        try {
          otlpGrpcPort = await grpc.listen();
          transports.push(grpc);
        } catch (err) {
          await grpc.close();
          logger.warn({ err: (err as Error).message, port: config.otlpGrpcPort }, 'could not bind the OTLP/gRPC port; OTLP/gRPC exporters cannot deliver to this process');
        }
      }
      return { port, otlpPort, otlpGrpcPort };
    },
    stop() {
      stopped ??= (async () => {
        requests.stopping = true;
        await Promise.all(transports.map((t) => t.stopListening()));
        options.beforeDrain?.();
        if (requests.count > 0) await new Promise<void>((resolve) => (idle = resolve));
        await Promise.all(transports.map((t) => t.close()));
      })();
      return stopped;
    },
  };
}
