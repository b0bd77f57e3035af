/**
 * Gateway benchmark (issue 3), every figure against a baseline measured in the same run:
 * - single-event POSTs (~180 B): bare uWebSockets.js answering 202 vs the gateway on a null-sink bus
 *   (target >= 0.8x), and the gateway over uWS vs over the node:http fallback; the bare server that
 *   also runs JSON.parse on the body shows how much of the gap is V8's parse and how much the gateway's
 *   own work;
 * - batched requests (100 events, Helios JSON and OTLP protobuf logs): events/s (target >= 100,000);
 * - p99 latency at half the measured maximum request rate (target < 10 ms);
 * - the load generators themselves: wrk vs `helios loadgen` (autocannon) against the bare server;
 * - optional peer: the OpenTelemetry Collector (OTLP/HTTP receiver -> nop exporter, its null sink) on
 *   the same OTLP protobuf bodies as the gateway, rounds alternating between the two. It runs when a
 *   binary is found: HELIOS_OTELCOL_BIN, else otelcol / otelcorecol / otelcol-contrib on PATH, else
 *   ~/.cache/helios/go/bin/otelcol (what bench/src/gateway/otelcol/ builds; see its main.go).
 * Servers run in child processes; the load comes from wrk (apt) when installed, else from loadgen.
 * Rounds alternate between servers and the median is kept: the machine is shared and noisy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, findOtelcol, startOtelcol, type RunningServer } from '../otelcol.js';
import { median, type BenchResult } from '../result.js';
import { prepareRequests, type LoadFormat, type LoadOptions } from '@helios/cli/loadgen';
import { runAutocannonLoad as runLoad } from './autocannon-load.js';
import { otlpProtoTraces } from './otlp-traces.js';
import type { BenchServerKind } from './server.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./server.js', import.meta.url));
const ROUNDS = Number(process.env['HELIOS_BENCH_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['HELIOS_BENCH_SECONDS'] ?? 5);
const CONNECTIONS = 64;
/** Rounds of the paced (half max rate) run; its p99 is the median of theirs. */
const PACED_ROUNDS = Number(process.env['HELIOS_BENCH_PACED_ROUNDS'] ?? 5);


export async function startServer(kind: BenchServerKind): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, [SERVER_SCRIPT, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\d+)/.exec(out);
      if (match !== null) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const hasWrk = (): boolean => spawnSync('wrk', ['--version']).error === undefined;

interface Measured {
  requestsPerSecond: number;
  /** Requests completed in the run. */
  requests: number;
  p99Ms: number;
  non2xx: number;
}

/** wrk -t1 -c64 with the body read from a file by a Lua script (binary bodies included). */
function runWrk(url: string, path: string, headers: Record<string, string>, body: Uint8Array, seconds: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'helios-wrk-'));
  const bodyFile = join(dir, 'body');
  writeFileSync(bodyFile, body);
  const lua = [
    'wrk.method = "POST"',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`),
    `local f = io.open("${bodyFile}", "rb")`,
    'wrk.body = f:read("*a")',
    'f:close()',
  ].join('\n');
  const script = join(dir, 'post.lua');
  writeFileSync(script, lua);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, `${url}${path}`]);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', () => {
      rmSync(dir, { recursive: true, force: true });
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const requests = /(\d+) requests in/.exec(out);
      const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
      const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      if (rps === null) return reject(new Error(`could not read wrk output:\n${out}`));
      const scale = p99?.[2] === 'us' ? 0.001 : p99?.[2] === 's' ? 1000 : 1;
      resolve({ requestsPerSecond: Number(rps[1]), requests: requests === null ? NaN : Number(requests[1]), p99Ms: p99 === null ? NaN : Number(p99[1]) * scale, non2xx: non2xx === null ? 0 : Number(non2xx[1]) });
    });
  });
}

function loadOptions(url: string, format: LoadFormat, batchSize: number, rate = 0): LoadOptions {
  return { url, format, rate, durationMs: SECONDS * 1000, connections: CONNECTIONS, batchSize, services: 8, errorRate: 0.01 };
}

/** Max request rate with wrk when installed, else with the loadgen. */
async function maxRate(url: string, format: LoadFormat, batchSize: number, useWrk: boolean): Promise<Measured> {
  const options = loadOptions(url, format, batchSize);
  if (useWrk) {
    const prepared = prepareRequests({ ...options, distinctBodies: 1 });
    return runWrk(url, prepared.path, prepared.headers, prepared.bodies[0]!, SECONDS);
  }
  const report = await runLoad(options);
  const non2xx = Object.entries(report.statuses).reduce((n, [s, c]) => n + (s.startsWith('2') ? 0 : c), 0);
  return { requestsPerSecond: report.requestsPerSecond, requests: report.requests, p99Ms: report.latencyMs.p99, non2xx: non2xx + report.errors };
}

function assertAllAccepted(what: string, m: Measured): void {
  if (m.non2xx > 0) throw new Error(`${what}: ${m.non2xx} answers were not 2xx; the measurement would flatter the server`);
}

interface PeerLoad {
  name: string;
  path: string;
  body: Uint8Array;
  eventsPerRequest: number;
}

interface PeerFigures {
  load: PeerLoad;
  gateway: number;
  collector: number;
  /** Server CPU (user + system, all threads) per event, µs: a per-core comparison however many cores each used. */
  gatewayCpuUs: number;
  collectorCpuUs: number;
}

/** Gateway and collector on the same OTLP bodies, rounds alternating; median events/s and CPU per event of each. */
async function comparePeer(gateway: RunningServer, collector: RunningServer, loads: PeerLoad[], log: (line: string) => void): Promise<PeerFigures[]> {
  const headers = { 'content-type': 'application/x-protobuf' };
  const out: PeerFigures[] = [];
  for (const load of loads) {
    const rates = { gateway: [] as number[], collector: [] as number[] };
    const cpu = { gateway: [] as number[], collector: [] as number[] };
    await runWrk(collector.url, load.path, headers, load.body, 2); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const who of ['gateway', 'collector'] as const) {
        const server = who === 'gateway' ? gateway : collector;
        const before = cpuSeconds(server.pid);
        const m = await runWrk(server.url, load.path, headers, load.body, SECONDS);
        const after = cpuSeconds(server.pid);
        assertAllAccepted(`${who} ${load.name}`, m);
        rates[who].push(m.requestsPerSecond * load.eventsPerRequest);
        const cpuUs = before === undefined || after === undefined ? NaN : ((after - before) * 1e6) / (m.requests * load.eventsPerRequest);
        cpu[who].push(cpuUs);
        log(`round ${round + 1} ${who} ${load.name}: ${Math.round(m.requestsPerSecond * load.eventsPerRequest)} events/s (${Math.round(m.requestsPerSecond)} req/s), p99 ${m.p99Ms.toFixed(2)} ms, server CPU ${cpuUs.toFixed(3)} us/event`);
      }
    }
    out.push({ load, gateway: median(rates.gateway), collector: median(rates.collector), gatewayCpuUs: median(cpu.gateway), collectorCpuUs: median(cpu.collector) });
  }
  return out;
}

export async function runGatewayBench(options: { json: boolean }): Promise<BenchResult[]> {
  const log = (line: string) => {
    if (!options.json) process.stderr.write(`gateway bench: ${line}\n`);
  };
  const useWrk = hasWrk();
  log(`load generator: ${useWrk ? 'wrk -t1 -c64' : 'helios loadgen (wrk not installed)'}; ${ROUNDS} rounds of ${SECONDS}s`);
  const kinds: BenchServerKind[] = ['bare-uws', 'bare-uws-json', 'gateway-uws', 'gateway-node'];
  const servers = new Map<BenchServerKind, RunningServer>();
  for (const kind of kinds) servers.set(kind, await startServer(kind));
  try {
    // Warm-up (JIT), then interleaved rounds of single-event POSTs.
    for (const kind of kinds) await maxRate(servers.get(kind)!.url, 'helios', 1, useWrk);
    // Besides req/s, each server's CPU time per request (from /proc): on this shared machine req/s moves
    // with what else runs, while the work a server does per request barely does.
    const single = new Map<BenchServerKind, number[]>(kinds.map((k) => [k, []]));
    const cpuPerRequest = new Map<BenchServerKind, number[]>(kinds.map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of kinds) {
        const server = servers.get(kind)!;
        const cpuBefore = cpuSeconds(server.pid);
        const m = await maxRate(server.url, 'helios', 1, useWrk);
        const cpuAfter = cpuSeconds(server.pid);
        assertAllAccepted(kind, m);
        single.get(kind)!.push(m.requestsPerSecond);
        const cpuUs = cpuBefore === undefined || cpuAfter === undefined ? NaN : ((cpuAfter - cpuBefore) * 1e6) / m.requests;
        if (Number.isFinite(cpuUs)) cpuPerRequest.get(kind)!.push(cpuUs);
        log(`round ${round + 1} ${kind}: ${Math.round(m.requestsPerSecond)} req/s, p99 ${m.p99Ms.toFixed(2)} ms, server CPU ${cpuUs.toFixed(2)} us/request`);
      }
    }
    const bare = median(single.get('bare-uws')!);
    const bareJson = median(single.get('bare-uws-json')!);
    const gwUws = median(single.get('gateway-uws')!);
    const gwNode = median(single.get('gateway-node')!);
    const cpuOf = (kind: BenchServerKind) => (cpuPerRequest.get(kind)!.length === ROUNDS ? median(cpuPerRequest.get(kind)!) : NaN);
    const bareCpu = cpuOf('bare-uws');
    const bareJsonCpu = cpuOf('bare-uws-json');
    const gwCpu = cpuOf('gateway-uws');

    const gwUrl = servers.get('gateway-uws')!.url;
    const batchedJson = await maxRate(gwUrl, 'helios', 100, useWrk);
    assertAllAccepted('batched helios', batchedJson);
    log(`batched Helios JSON (100/request): ${Math.round(batchedJson.requestsPerSecond * 100)} events/s`);
    const batchedProto = await maxRate(gwUrl, 'otlp-proto', 100, useWrk);
    assertAllAccepted('batched otlp-proto', batchedProto);
    log(`batched OTLP protobuf logs (100/request): ${Math.round(batchedProto.requestsPerSecond * 100)} events/s`);

    // p99 at half the measured maximum, with a fixed-rate client: several rounds, the median of each
    // figure kept, so one disturbed round (another process taking the core) does not decide the result.
    const halfRate = Math.round(gwUws / 2);
    const pacedRounds: { p50: number; p99: number; achieved: number }[] = [];
    for (let round = 0; round < PACED_ROUNDS; round++) {
      const r = await runLoad(loadOptions(gwUrl, 'helios', 1, halfRate));
      pacedRounds.push({ p50: r.latencyMs.p50, p99: r.latencyMs.p99, achieved: r.requestsPerSecond });
      log(`paced round ${round + 1} at ${halfRate} req/s: achieved ${Math.round(r.requestsPerSecond)} req/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms`);
    }
    const paced = {
      p50: median(pacedRounds.map((r) => r.p50)),
      p99: median(pacedRounds.map((r) => r.p99)),
      achieved: median(pacedRounds.map((r) => r.achieved)),
    };
    log(`paced p99 per round: ${pacedRounds.map((r) => r.p99.toFixed(1)).join(', ')} ms; median ${paced.p99.toFixed(2)} ms`);

    // The load generators against the same bare server.
    const loadgenBare = await runLoad(loadOptions(servers.get('bare-uws')!.url, 'helios', 1));
    log(`helios loadgen (autocannon, 64 connections) vs bare uWS: ${Math.round(loadgenBare.requestsPerSecond)} req/s`);

    const results: BenchResult[] = [
      { name: 'bare uWS 202, single-event POST', value: bare, unit: 'req/s' },
      { name: 'gateway (uWS, null sink), single-event POST', value: gwUws, unit: 'req/s', baseline: 'bare uWS 202, single-event POST', baselineValue: bare, ratio: gwUws / bare },
      // Where the gap goes: V8's JSON.parse alone, then the gateway's own work on top of it.
      { name: 'bare uWS 202 + JSON.parse of the body, single-event POST', value: bareJson, unit: 'req/s', baseline: 'bare uWS 202, single-event POST', baselineValue: bare, ratio: bareJson / bare },
      { name: 'gateway (uWS, null sink) vs bare uWS + JSON.parse', value: gwUws, unit: 'req/s', baseline: 'bare uWS 202 + JSON.parse of the body, single-event POST', baselineValue: bareJson, ratio: gwUws / bareJson },
      ...(Number.isFinite(bareCpu) && Number.isFinite(gwCpu) && Number.isFinite(bareJsonCpu)
        ? [
            { name: 'bare uWS server CPU per single-event request', value: bareCpu, unit: 'us' },
            // bare / gateway: the req/s ratio the two would reach if each had a core of its own to itself.
            { name: 'gateway (uWS) server CPU per single-event request', value: gwCpu, unit: 'us', baseline: 'bare uWS server CPU per request (ratio = bare / gateway)', baselineValue: bareCpu, ratio: bareCpu / gwCpu },
            { name: 'bare uWS + JSON.parse server CPU per single-event request', value: bareJsonCpu, unit: 'us', baseline: 'bare uWS server CPU per request (ratio = bare / this)', baselineValue: bareCpu, ratio: bareCpu / bareJsonCpu },
          ]
        : []),
      { name: 'gateway (node:http fallback), single-event POST', value: gwNode, unit: 'req/s', baseline: 'gateway (uWS, null sink), single-event POST', baselineValue: gwUws, ratio: gwNode / gwUws },
      { name: 'gateway batched Helios JSON (100 events/request)', value: batchedJson.requestsPerSecond * 100, unit: 'events/s', baseline: 'target 100,000 events/s', baselineValue: 100_000, ratio: (batchedJson.requestsPerSecond * 100) / 100_000 },
      { name: 'gateway batched OTLP protobuf logs (100/request)', value: batchedProto.requestsPerSecond * 100, unit: 'events/s', baseline: 'target 100,000 events/s', baselineValue: 100_000, ratio: (batchedProto.requestsPerSecond * 100) / 100_000 },
      { name: `gateway p99 at half max rate (${halfRate} req/s, median of ${PACED_ROUNDS} rounds)`, value: paced.p99, unit: 'ms', baseline: 'target 10 ms', baselineValue: 10, ratio: paced.p99 / 10 },
      { name: 'gateway p50 at half max rate', value: paced.p50, unit: 'ms' },
      { name: 'gateway rate achieved when paced at half max', value: paced.achieved, unit: 'req/s', baseline: 'pacing target', baselineValue: halfRate, ratio: paced.achieved / halfRate },
    ];
    if (useWrk) results.push({ name: 'helios loadgen max vs bare uWS', value: loadgenBare.requestsPerSecond, unit: 'req/s', baseline: 'wrk -t1 -c64 vs bare uWS', baselineValue: bare, ratio: loadgenBare.requestsPerSecond / bare });

    // The peer row is optional: it needs a collector binary and wrk (the same client for both servers).
    const otelcol = findOtelcol();
    if ('skipped' in otelcol) log(`OpenTelemetry Collector comparison skipped: ${otelcol.skipped}`);
    else if (!useWrk) log('OpenTelemetry Collector comparison skipped: it needs wrk (apt-get install wrk)');
    else {
      log(`OpenTelemetry Collector: ${otelcol.bin} (${otelcol.version}), OTLP/HTTP receiver -> nop exporter, GOMAXPROCS=${process.env['GOMAXPROCS'] ?? 'all cores'}`);
      const collector = await startOtelcol(otelcol.bin);
      try {
        const logsBody = (batch: number) => prepareRequests({ ...loadOptions(gwUrl, 'otlp-proto', batch), distinctBodies: 1 }).bodies[0]!;
        const compared = await comparePeer(servers.get('gateway-uws')!, collector, [
          { name: 'batched OTLP protobuf logs (100/request)', path: '/v1/logs', body: logsBody(100), eventsPerRequest: 100 },
          { name: 'batched OTLP protobuf traces (100 spans/request)', path: '/v1/traces', body: otlpProtoTraces(100), eventsPerRequest: 100 },
          { name: 'single-record OTLP protobuf logs', path: '/v1/logs', body: logsBody(1), eventsPerRequest: 1 },
        ], log);
        for (const { load, gateway, collector: peer, gatewayCpuUs, collectorCpuUs } of compared) {
          const collectorName = `OpenTelemetry Collector (${otelcol.version}, otlp -> nop, GOMAXPROCS=${process.env['GOMAXPROCS'] ?? 'all cores'}), ${load.name}`;
          results.push({ name: collectorName, value: peer, unit: 'events/s' });
          results.push({ name: `gateway (uWS, null sink), ${load.name}`, value: gateway, unit: 'events/s', baseline: collectorName, baselineValue: peer, ratio: gateway / peer });
          if (Number.isFinite(gatewayCpuUs) && Number.isFinite(collectorCpuUs)) {
            results.push({ name: `collector CPU per event, ${load.name}`, value: collectorCpuUs, unit: 'us' });
            // ratio = collector CPU / gateway CPU per event: above 1, the gateway does the same work with less CPU.
            results.push({ name: `gateway CPU per event, ${load.name}`, value: gatewayCpuUs, unit: 'us', baseline: 'collector CPU per event (ratio = collector / gateway)', baselineValue: collectorCpuUs, ratio: collectorCpuUs / gatewayCpuUs });
          }
        }
      } finally {
        await collector.stop();
      }
    }
    return results;
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
}
