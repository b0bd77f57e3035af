/**
 * OTLP/gRPC vs OTLP/HTTP into the same gateway: the same protobuf ExportTraceServiceRequest (100
 * server spans) sent by `concurrency` callers from a worker thread, the gateway publishing into a null
 * sink. Rounds alternate between the protocols (HTTP, gRPC, HTTP, gRPC, ...) so drift on a shared
 * machine hits both; the ratio is gRPC spans/s over OTLP/HTTP spans/s of the median rounds.
 *
 *   npm run bench -- otlp-grpc      (HELIOS_BENCH_ROUNDS, HELIOS_BENCH_SECONDS, HELIOS_BENCH_CONCURRENCY)
 */
import { Worker } from 'node:worker_threads';
import { createMetricsRegistry, defaultConfig, silentLogger, type Bus } from '@helios/core';
import { createGateway } from '@helios/gateway';
import { otlpProtoTraces } from '../gateway/otlp-traces.js';
import { nullSinkBus } from '../null-sink-bus.js';
import { median, type BenchResult } from '../result.js';
import type { LoadOrder, LoadOutcome } from './load.js';

const SPANS_PER_REQUEST = 100;

function load(order: LoadOrder): Promise<LoadOutcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load.js', import.meta.url), { workerData: order });
    worker.once('message', (outcome: LoadOutcome) => {
      resolve(outcome);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

export async function runOtlpGrpcBench(): Promise<BenchResult[]> {
  const rounds = Number(process.env['HELIOS_BENCH_ROUNDS'] ?? 4);
  const seconds = Number(process.env['HELIOS_BENCH_SECONDS'] ?? 4);
  const concurrency = Number(process.env['HELIOS_BENCH_CONCURRENCY'] ?? 16);
  // A synchronous null sink, as in the gateway suite: the figure is the protocol and gateway cost, not a bus.
  const bus: Bus = { ...nullSinkBus, publishSync: () => undefined };
  const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: 0 };
  const gateway = createGateway({ config, bus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  const { port, otlpGrpcPort } = await gateway.start();
  const body = otlpProtoTraces(SPANS_PER_REQUEST);
  const rates: Record<'http' | 'grpc', number[]> = { http: [], grpc: [] };
  try {
    // One short warm-up of each (JIT, connections), not counted.
    for (const protocol of ['http', 'grpc'] as const) await load({ protocol, port: protocol === 'http' ? port : otlpGrpcPort!, body, concurrency, seconds: 1 });
    for (let r = 0; r < rounds; r++) {
      for (const protocol of ['http', 'grpc'] as const) {
        const outcome = await load({ protocol, port: protocol === 'http' ? port : otlpGrpcPort!, body, concurrency, seconds });
        if (outcome.failed > 0) throw new Error(`${protocol}: ${outcome.failed} of ${outcome.ok + outcome.failed} exports failed`);
        rates[protocol].push((outcome.ok * SPANS_PER_REQUEST) / outcome.seconds);
      }
    }
  } finally {
    await gateway.stop();
  }
  const http = median(rates.http);
  const grpc = median(rates.grpc);
  const httpName = `OTLP/HTTP protobuf, ${SPANS_PER_REQUEST} spans/request, ${concurrency} callers`;
  return [
    { name: httpName, value: http, unit: 'spans/s' },
    { name: `OTLP/gRPC (grpc-js), ${SPANS_PER_REQUEST} spans/request, ${concurrency} callers`, value: grpc, unit: 'spans/s', baseline: httpName, baselineValue: http, ratio: grpc / http },
  ];
}
