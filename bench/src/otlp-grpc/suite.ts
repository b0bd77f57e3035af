/**
 * OTLP/gRPC into the null-sink gateway, three comparisons, each in the same run:
 * 1. Node clients: the same protobuf ExportTraceServiceRequest (100 server spans) from a worker thread,
 *    OTLP/HTTP over undici against OTLP/gRPC over @grpc/grpc-js.
 * 2. A Go client: telemetrygen (the Collector project's load generator) in its gRPC mode against its
 *    HTTP mode, traces of 100 spans (a parent and 99 children), so the gRPC figure is not a Node gRPC
 *    client's cost. Spans/s are counted where the gateway hands them to its bus; CPU is this process's
 *    (the gateway's) per span.
 * 3. The OpenTelemetry Collector (OTLP receiver -> nop exporter) against the gateway's gRPC port, the
 *    same telemetrygen gRPC load: spans/s (the Collector's own accepted-spans metric) and CPU per span
 *    of each server process.
 * Rounds alternate between the candidates so drift on a shared machine hits both; figures are medians.
 * 2 and 3 need telemetrygen (HELIOS_TELEMETRYGEN_BIN or on PATH; `bash scripts/telemetrygen.sh` builds
 * it), 3 also the Collector (HELIOS_OTELCOL_BIN, see ../otelcol.ts); each is skipped, saying why, without.
 *
 *   npm run bench -- otlp-grpc   (HELIOS_BENCH_ROUNDS, HELIOS_BENCH_SECONDS, HELIOS_BENCH_CONCURRENCY, HELIOS_BENCH_TG_WORKERS)
 */
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { createMetricsRegistry, defaultConfig, silentLogger, type Bus } from '@helios/core';
import { createGateway } from '@helios/gateway';
import { otlpProtoTraces } from '../gateway/otlp-traces.js';
import { nullSinkBus } from '../null-sink-bus.js';
import { cpuSeconds, findOtelcol, startOtelcol } from '../otelcol.js';
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

function findTelemetrygen(): { bin: string } | { skipped: string } {
  const fromEnv = process.env['HELIOS_TELEMETRYGEN_BIN'];
  const bin = fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'telemetrygen';
  const probe = spawnSync(bin, ['--help'], { encoding: 'utf8' });
  if (probe.error === undefined && probe.status === 0) return { bin };
  return { skipped: `no telemetrygen (${bin}): set HELIOS_TELEMETRYGEN_BIN or put it on PATH; \`bash scripts/telemetrygen.sh\` builds one` };
}

/** telemetrygen sending traces of 100 spans as fast as its exporter goes, for `seconds`. */
function telemetrygen(bin: string, endpoint: string, mode: 'grpc' | 'http', workers: number, seconds: number): Promise<void> {
  const args = ['traces', '--otlp-insecure', '--otlp-endpoint', endpoint, '--rate', '0', '--workers', String(workers), '--duration', `${seconds}s`, '--child-spans', String(SPANS_PER_REQUEST - 1), '--batch-size', String(SPANS_PER_REQUEST), '--service', 'bench'];
  if (mode === 'http') args.push('--otlp-http');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`telemetrygen ${mode} exited with ${code}:\n${stderr}`))));
  });
}

/** This process's CPU seconds (all threads): the in-process gateway's, while telemetrygen (another process) loads it. */
const ownCpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

interface Figures {
  rates: number[];
  cpuUsPerSpan: number[];
}

/** One timed telemetrygen run against a server: spans it took per second, and its CPU µs per span. */
async function measureTelemetrygen(run: () => Promise<void>, spans: () => number | Promise<number>, cpu: () => number | undefined, into: Figures): Promise<void> {
  const [spans0, cpu0, t0] = [await spans(), cpu(), performance.now()];
  await run();
  const [spans1, cpu1, t1] = [await spans(), cpu(), performance.now()];
  const taken = spans1 - spans0;
  if (taken <= 0) throw new Error('the server took no spans from telemetrygen');
  into.rates.push(taken / ((t1 - t0) / 1000));
  if (cpu0 !== undefined && cpu1 !== undefined) into.cpuUsPerSpan.push(((cpu1 - cpu0) * 1e6) / taken);
}

const figures = (): Figures => ({ rates: [], cpuUsPerSpan: [] });

export async function runOtlpGrpcBench(options: { json: boolean }): Promise<BenchResult[]> {
  const log = (line: string) => {
    if (!options.json) process.stderr.write(`otlp-grpc bench: ${line}\n`);
  };
  const rounds = Number(process.env['HELIOS_BENCH_ROUNDS'] ?? 4);
  const seconds = Number(process.env['HELIOS_BENCH_SECONDS'] ?? 4);
  const concurrency = Number(process.env['HELIOS_BENCH_CONCURRENCY'] ?? 16);
  const workers = Number(process.env['HELIOS_BENCH_TG_WORKERS'] ?? 4);
  // A synchronous null sink, as in the gateway suite: the figure is the protocol and gateway cost, not a bus.
  let published = 0;
  const bus: Bus = { ...nullSinkBus, publish: async (_topic, records) => void (published += records.length), publishSync: (_topic, records) => void (published += records.length) };
  const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: 0 };
  const gateway = createGateway({ config, bus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  const { port, otlpGrpcPort } = await gateway.start();
  const results: BenchResult[] = [];
  try {
    // 1. Node clients.
    const body = otlpProtoTraces(SPANS_PER_REQUEST);
    const rates: Record<'http' | 'grpc', number[]> = { http: [], grpc: [] };
    for (const protocol of ['http', 'grpc'] as const) await load({ protocol, port: protocol === 'http' ? port : otlpGrpcPort!, body, concurrency, seconds: 1 }); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const protocol of ['http', 'grpc'] as const) {
        const outcome = await load({ protocol, port: protocol === 'http' ? port : otlpGrpcPort!, body, concurrency, seconds });
        if (outcome.failed > 0) throw new Error(`${protocol}: ${outcome.failed} of ${outcome.ok + outcome.failed} exports failed`);
        rates[protocol].push((outcome.ok * SPANS_PER_REQUEST) / outcome.seconds);
      }
    }
    const httpName = `Node clients: OTLP/HTTP protobuf (undici), ${SPANS_PER_REQUEST} spans/request, ${concurrency} callers`;
    results.push(
      { name: httpName, value: median(rates.http), unit: 'spans/s' },
      { name: `Node clients: OTLP/gRPC (@grpc/grpc-js client), ${SPANS_PER_REQUEST} spans/request, ${concurrency} callers`, value: median(rates.grpc), unit: 'spans/s', baseline: httpName, baselineValue: median(rates.http), ratio: median(rates.grpc) / median(rates.http) },
    );

    // 2. and 3. telemetrygen.
    const tg = findTelemetrygen();
    if ('skipped' in tg) {
      log(`telemetrygen comparisons skipped: ${tg.skipped}`);
      return results;
    }
    const otelcol = findOtelcol();
    if ('skipped' in otelcol) log(`OpenTelemetry Collector comparison skipped: ${otelcol.skipped}`);
    const collector = 'skipped' in otelcol ? undefined : await startOtelcol(otelcol.bin, { countSpans: true });
    try {
      const candidates: Array<{ key: 'gwHttp' | 'gwGrpc' | 'collector'; endpoint: string; mode: 'grpc' | 'http'; spans: () => number | Promise<number>; cpu: () => number | undefined }> = [
        { key: 'gwHttp', endpoint: `127.0.0.1:${port}`, mode: 'http', spans: () => published, cpu: ownCpuSeconds },
        { key: 'gwGrpc', endpoint: `127.0.0.1:${otlpGrpcPort!}`, mode: 'grpc', spans: () => published, cpu: ownCpuSeconds },
      ];
      if (collector !== undefined) candidates.push({ key: 'collector', endpoint: collector.grpcEndpoint, mode: 'grpc', spans: () => collector.acceptedSpans(), cpu: () => cpuSeconds(collector.pid) });
      const measured = { gwHttp: figures(), gwGrpc: figures(), collector: figures() };
      const round = (c: (typeof candidates)[number], s: number, into: Figures) => measureTelemetrygen(() => telemetrygen(tg.bin, c.endpoint, c.mode, workers, s), c.spans, c.cpu, into);
      for (const c of candidates) await round(c, 1, figures()); // warm-up, not counted
      for (let r = 0; r < rounds; r++) {
        for (const c of candidates) {
          await round(c, seconds, measured[c.key]);
          log(`round ${r + 1} telemetrygen -> ${c.key}: ${Math.round(measured[c.key].rates.at(-1)!)} spans/s, ${measured[c.key].cpuUsPerSpan.at(-1)?.toFixed(2)} us CPU/span`);
        }
      }

      const load = `telemetrygen, traces of ${SPANS_PER_REQUEST} spans, ${workers} workers`;
      const tgHttp = `gateway OTLP/HTTP, ${load} (--otlp-http)`;
      const tgGrpc = `gateway OTLP/gRPC, ${load} (gRPC)`;
      const [httpRate, grpcRate] = [median(measured.gwHttp.rates), median(measured.gwGrpc.rates)];
      const [httpCpu, grpcCpu] = [median(measured.gwHttp.cpuUsPerSpan), median(measured.gwGrpc.cpuUsPerSpan)];
      results.push(
        { name: tgHttp, value: httpRate, unit: 'spans/s' },
        { name: tgGrpc, value: grpcRate, unit: 'spans/s', baseline: tgHttp, baselineValue: httpRate, ratio: grpcRate / httpRate },
        { name: `gateway CPU per span, ${load}, OTLP/HTTP`, value: httpCpu, unit: 'us' },
        // ratio = HTTP CPU / gRPC CPU per span: above 1, a gRPC span costs the gateway less.
        { name: `gateway CPU per span, ${load}, OTLP/gRPC`, value: grpcCpu, unit: 'us', baseline: 'gateway CPU per span over OTLP/HTTP (ratio = HTTP / gRPC)', baselineValue: httpCpu, ratio: httpCpu / grpcCpu },
      );
      if (collector !== undefined && !('skipped' in otelcol)) {
        const peer = `OpenTelemetry Collector (${otelcol.version}, otlp -> nop, GOMAXPROCS=${process.env['GOMAXPROCS'] ?? 'all cores'}), ${load} (gRPC)`;
        const [peerRate, peerCpu] = [median(measured.collector.rates), median(measured.collector.cpuUsPerSpan)];
        results.push(
          { name: peer, value: peerRate, unit: 'spans/s' },
          { name: `gateway (null sink) OTLP/gRPC vs the Collector, ${load}`, value: grpcRate, unit: 'spans/s', baseline: peer, baselineValue: peerRate, ratio: grpcRate / peerRate },
          { name: `Collector CPU per span, ${load} (gRPC)`, value: peerCpu, unit: 'us' },
          // ratio = collector CPU / gateway CPU per span: above 1, the gateway does the same work with less CPU.
          { name: `gateway CPU per span vs the Collector, ${load} (gRPC)`, value: grpcCpu, unit: 'us', baseline: 'Collector CPU per span (ratio = Collector / gateway)', baselineValue: peerCpu, ratio: peerCpu / grpcCpu },
        );
      }
    } finally {
      await collector?.stop();
    }
    return results;
  } finally {
    await gateway.stop();
  }
}
