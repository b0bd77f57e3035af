/**
 * The servers the gateway bench measures, one per child process so the load generator never shares
 * their thread: `bare-uws` (uWebSockets.js reading the body and answering 202, the baseline), and the
 * Helios gateway over uWS or node:http in front of a null-sink bus (publish resolves at once).
 * Prints `ready <port>` on stdout; exits on SIGTERM.
 */
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';
import { createMetricsRegistry, defaultConfig, silentLogger, type Bus } from '@helios/core';
import { nullSinkBus } from '../null-sink-bus.js';
import { createGateway } from '@helios/gateway';

export type BenchServerKind = 'bare-uws' | 'gateway-uws' | 'gateway-node';



async function startBareUws(): Promise<number> {
  const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof Uws;
  const app = uws.App();
  app.any('/*', (res) => {
    res.onAborted(() => undefined);
    res.onData((_chunk, isLast) => {
      if (isLast) res.cork(() => res.writeStatus('202 Accepted').writeHeader('content-type', 'application/json').end('{"accepted":1}'));
    });
  });
  return new Promise((resolve, reject) => app.listen('127.0.0.1', 0, (socket) => (socket === false ? reject(new Error('listen failed')) : resolve(uws.us_socket_local_port(socket)))));
}

/**
 * The null sink as a synchronous bus (takes records the moment they are published, like the in-process
 * bus, whose publishSync the gateway uses to answer from the uWS callback). HELIOS_BENCH_ASYNC_BUS=1
 * measures the promise-only path instead.
 */
const benchBus: Bus = process.env.HELIOS_BENCH_ASYNC_BUS === '1' ? nullSinkBus : { ...nullSinkBus, publishSync: () => undefined };

async function startGatewayServer(transport: 'uws' | 'node'): Promise<number> {
  const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, transport };
  const gateway = createGateway({ config, bus: benchBus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  return (await gateway.start()).port;
}

async function main(kind: BenchServerKind): Promise<void> {
  const port = kind === 'bare-uws' ? await startBareUws() : await startGatewayServer(kind === 'gateway-uws' ? 'uws' : 'node');
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`ready ${port}\n`);
}

main(process.argv[2] as BenchServerKind).catch((err: unknown) => {
  process.stderr.write(`bench server: ${(err as Error).message}\n`);
  process.exit(1);
});
