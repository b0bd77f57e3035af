/**
 * Worker-thread HTTP server for the SDK bench: one variant per worker, so OpenTelemetry's global patching
 * of node:http in the `otel` variant cannot leak into the others.
 * workerData: { variant: 'plain' | 'helios' | 'otel', sinkUrl }. Posts { port } when listening, then
 * { stats } after receiving 'stop'.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { init, type HeliosClient } from '@helios/sdk';
import { withHelios } from '@helios/sdk/middleware/http';

const { variant, sinkUrl } = workerData as { variant: 'plain' | 'helios' | 'otel'; sinkUrl: string };

let helios: HeliosClient | undefined;
if (variant === 'helios') {
  // Middleware events only: the Helios JSON path, no OTel SDK, the cost the middleware adds.
  helios = init({ service: 'bench', endpoint: sinkUrl, otel: false, maxQueueSize: 100_000, onDiagnostic: () => {} });
} else if (variant === 'otel') {
  // Plain @opentelemetry/sdk-node with HttpInstrumentation and the OTLP/HTTP trace exporter (what init()
  // builds), no Helios events: the cost of ordinary OTel server instrumentation.
  helios = init({ service: 'bench', endpoint: sinkUrl, otel: { instrumentations: [new HttpInstrumentation()], metrics: false, logs: false }, onDiagnostic: () => {} });
}
// Required after the OTel SDK started so the instrumentation patches node:http (it hooks require).
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

function handler(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
}

const server = http.createServer(variant === 'helios' && helios !== undefined ? withHelios(helios, handler) : handler);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  parentPort?.postMessage({ port: (server.address() as AddressInfo).port });
});
parentPort?.on('message', async (message) => {
  if (message !== 'stop') return;
  server.closeAllConnections();
  server.close();
  const stats = helios?.stats();
  await helios?.shutdown();
  parentPort?.postMessage({ stats });
});
