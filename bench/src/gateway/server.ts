/**
 * The servers the gateway bench measures, one per child process so the load generator never shares
 * their thread: `bare-uws` (uWebSockets.js reading the body and answering 202, the baseline),
 * `bare-uws-json` (the same plus JSON.parse of the body), and the Helios gateway over uWS or node:http
 * in front of a null-sink bus (publish resolves at once).
 * Prints `ready <port>` on stdout; exits on SIGTERM.
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type * as Uws from 'uWebSockets.js';
import { createMetricsRegistry, defaultConfig, silentLogger, type Bus } from '@helios/core';
import { nullSinkBus } from '../null-sink-bus.js';
import { createGateway } from '@helios/gateway';

export type BenchServerKind = 'bare-uws' | 'bare-uws-json' | 'gateway-uws' | 'gateway-node' | 'gateway-uws-2-threads';

/**
 * The bare server; with `parseJson` it also decodes the body and runs V8's JSON.parse on it, and nothing
 * else: the ceiling for any gateway that reads JSON on V8, so the gateway's own work per event (schema,
 * id, metrics, bus record, response) shows apart from the parse.
 */
async function startBareUws(parseJson: boolean): Promise<number> {
  const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof Uws;
  const app = uws.App();
  const answer = (res: Uws.HttpResponse) => res.cork(() => res.writeStatus('202 Accepted').writeHeader('content-type', 'application/json').end('{"accepted":1}'));
  if (!parseJson) {
    app.any('/*', (res) => {
      res.onAborted(() => undefined);
      res.onData((_chunk, isLast) => {
        if (isLast) answer(res);
      });
    });
  } else {
    app.any('/*', (res) => {
      res.onAborted(() => undefined);
      let body: Buffer | undefined;
      res.onData((chunk, isLast) => {
        // The chunk's memory is only valid during this callback: copy all but a whole body in one chunk.
        const part = Buffer.from(chunk);
        body = body === undefined ? (isLast ? part : Buffer.from(part)) : Buffer.concat([body, part]);
        if (!isLast) return;
        JSON.parse(body.toString('utf8'));
        answer(res);
      });
    });
  }
  return new Promise((resolve, reject) => app.listen('127.0.0.1', 0, (socket) => (socket === false ? reject(new Error('listen failed')) : resolve(uws.us_socket_local_port(socket)))));
}

/**
 * The null sink as a synchronous bus (takes records the moment they are published, like the in-process
 * bus, whose publishSync the gateway uses to answer from the uWS callback). HELIOS_BENCH_ASYNC_BUS=1
 * measures the promise-only path instead.
 */
const benchBus: Bus = process.env.HELIOS_BENCH_ASYNC_BUS === '1' ? nullSinkBus : { ...nullSinkBus, publishSync: () => undefined };

async function startGatewayServer(transport: 'uws' | 'node', port = 0, reusePort = false): Promise<{ port: number; stop(): Promise<void> }> {
  const config = { ...defaultConfig().gateway, host: '127.0.0.1', port, otlpPort: -1, otlpGrpcPort: -1, transport, reusePort };
  const gateway = createGateway({ config, bus: benchBus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  return { port: (await gateway.start()).port, stop: () => gateway.stop() };
}

/**
 * The null-sink gateway on two threads sharing one port (what `gateway.threads: 2` does, without the
 * pipeline thread behind it): each thread runs this module as a worker with the port to join.
 */
async function startThreadedGateway(threads: number): Promise<{ port: number; stop(): Promise<void> }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const workers = await Promise.all(Array.from({ length: threads }, () => new Promise<Worker>((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { port } });
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  })));
  // uWS aborts the process when a thread running it is cut off: each closes its gateway first.
  const stop = async () => {
    await Promise.all(workers.map((w) => new Promise((resolve) => {
      w.once('message', resolve);
      w.postMessage('stop');
    })));
  };
  return { port, stop };
}

async function main(kind: BenchServerKind): Promise<void> {
  if (kind === 'gateway-uws-2-threads') {
    const threaded = await startThreadedGateway(2);
    process.on('SIGTERM', () => void threaded.stop().then(() => process.exit(0)));
    process.stdout.write(`ready ${threaded.port}\n`);
    return;
  }
  const port = kind === 'bare-uws' || kind === 'bare-uws-json' ? await startBareUws(kind === 'bare-uws-json') : (await startGatewayServer(kind === 'gateway-uws' ? 'uws' : 'node')).port;
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`ready ${port}\n`);
}

if (!isMainThread) {
  const { port } = workerData as { port: number };
  void startGatewayServer('uws', port, true).then((gateway) => {
    parentPort!.once('message', () => void gateway.stop().then(() => parentPort!.postMessage('stopped')));
    parentPort!.postMessage('ready');
  });
} else main(process.argv[2] as BenchServerKind).catch((err: unknown) => {
  process.stderr.write(`bench server: ${(err as Error).message}\n`);
  process.exit(1);
});
