/**
 * Child-process HTTP server for the SDK bench: one variant per process, so OpenTelemetry's global patching
 * of node:http in the `otel` variant cannot leak into the others, and the process's CPU time (every thread:
 * the event loop, zlib on the thread pool, the exporter's sends) is this variant's alone.
 * argv: <variant: plain | helios | helios-inthread | helios-every | otel> <sinkUrl>. Sends { port } when listening; on 'start' notes its CPU
 * time; on 'stop' answers { stats, cpuMicros } (CPU used since 'start', user + system).
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { init, type HeliosClient } from '@helios/sdk';
import { withHelios } from '@helios/sdk/middleware/http';

const variant = process.argv[2] as 'plain' | 'helios' | 'helios-inthread' | 'helios-every' | 'otel';
const sinkUrl = process.argv[3] as string;
const send = (message: unknown) => process.send?.(message);

let helios: HeliosClient | undefined;
if (variant === 'helios' || variant === 'helios-inthread' || variant === 'helios-every') {
  // Middleware events only: the Helios JSON path, no OTel SDK, the cost the middleware adds. `helios` is the
  // default (request sampling: a bounded number of events per route with exact counts); `helios-every`
  // sends one event per request (requestSampling: false); `helios-inthread` is the default but exporting from
  // the server's own thread (exportThread: false).
  helios = init({ service: 'bench', endpoint: sinkUrl, otel: false, maxQueueSize: 100_000, onDiagnostic: () => {}, ...(variant === 'helios-every' ? { requestSampling: false } : {}), ...(variant === 'helios-inthread' ? { exportThread: false } : {}) });
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

const server = http.createServer(variant !== 'otel' && helios !== undefined ? withHelios(helios, handler) : handler);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  send({ port: (server.address() as AddressInfo).port });
});
let cpuAtStart = process.cpuUsage();
process.on('message', async (message) => {
  if (message === 'start') {
    cpuAtStart = process.cpuUsage();
    return;
  }
  if (message !== 'stop') return;
  server.closeAllConnections();
  server.close();
  // The events of the measured requests still queued are sent inside the measured CPU time.
  await helios?.flush();
  const cpu = process.cpuUsage(cpuAtStart);
  const stats = helios?.stats();
  await helios?.shutdown();
  send({ stats, cpuMicros: cpu.user + cpu.system });
  process.disconnect();
});
