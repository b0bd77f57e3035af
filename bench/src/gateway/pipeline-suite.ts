/**
 * `helios up` with its defaults (in-process bus, PGlite, gateway threads: one per core) against a bare
 * uWebSockets.js server in the same run (issue 21):
 * - single-event POSTs: max req/s of `helios up` vs bare uWS (target >= 0.6x);
 * - batched (100 events/request, 16 connections): events/s accepted, and stored end to end (until the
 *   store wrote every accepted event; target >= 100,000 events/s), then client p99 paced at half the
 *   stored rate (target <= 50 ms);
 * - the null-sink gateway on two threads vs one on batched OTLP protobuf logs (target >= 1.7x).
 * Rounds alternate between servers and the median is kept: the machine is shared and noisy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadFormat } from '@helios/cli/loadgen';
import { median, type BenchResult } from '../result.js';
import { runAutocannonLoad as runLoad } from './autocannon-load.js';
import type { RunningServer } from '../otelcol.js';
import { startServer } from './suite.js';

const HELIOS_BIN = fileURLToPath(new URL('../../../cli/dist/bin/helios.js', import.meta.url));
const ROUNDS = Number(process.env['HELIOS_BENCH_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['HELIOS_BENCH_SECONDS'] ?? 5);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `helios up` in a child process on a fresh data directory, ready once /readyz says so; `config` adds to
 * the config file (e.g. a Kafka bus), `roles` limits the roles (`--role`).
 */
export async function startHeliosUp(threads: number, options: { config?: Record<string, unknown>; roles?: readonly string[] } = {}): Promise<RunningServer & { storedEvents(): Promise<number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'helios-bench-up-'));
  writeFileSync(join(dir, 'helios.config.json'), JSON.stringify({ dataDir: join(dir, 'data'), log: { level: 'info', format: 'json' }, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, threads }, ...options.config }));
  const roleArgs = options.roles === undefined ? [] : ['--role', options.roles.join(',')];
  const child: ChildProcess = spawn(process.execPath, [HELIOS_BIN, 'up', ...roleArgs, '--config', join(dir, 'helios.config.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"port":(\d+)[^\n]*"msg":"helios ready/.exec(out);
      if (match !== null) resolve(Number(match[1]));
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`helios up exited with ${code}: ${out.slice(-2000)}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200) break;
    await sleep(200);
  }
  return {
    url, pid: child.pid,
    async storedEvents() {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(/^helios_store_write_batch_size_sum (\S+)$/m.exec(text)?.[1] ?? 0);
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export const load = (url: string, format: LoadFormat, batchSize: number, connections: number, seconds: number, rate = 0) =>
  runLoad({ url, format, rate, durationMs: seconds * 1000, connections, batchSize, services: 8, errorRate: 0.01 });

export async function runPipelineBench(options: { json: boolean }): Promise<BenchResult[]> {
  const log = (line: string) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const results: BenchResult[] = [];

  // Single-event POSTs, bare uWS vs `helios up`, rounds alternating. HELIOS_BENCH_PIPELINE_THREADS adds
  // `helios up` with other gateway.threads values (e.g. `0,1`; 0, the default, is one per core).
  const threadCounts = (process.env['HELIOS_BENCH_PIPELINE_THREADS'] ?? '0').split(',').map(Number);
  const bare = await startServer('bare-uws');
  const ups = [];
  for (const threads of threadCounts) ups.push(await startHeliosUp(threads));
  const up = ups[0]!;
  const bareRates: number[] = [];
  const upRates: number[][] = ups.map(() => []);
  /** Answers other than 202 per `helios up`: 429s say the pipeline (PGlite) bounded the accepted rate, not the gateway. */
  const refusals: string[] = ups.map(() => '');
  try {
    for (let round = 0; round < ROUNDS; round++) {
      bareRates.push((await load(bare.url, 'helios', 1, 64, SECONDS)).requestsPerSecond);
      for (const [i, server] of ups.entries()) {
        const r = await load(server.url, 'helios', 1, 64, SECONDS);
        upRates[i]!.push(r.requestsPerSecond * (r.acceptedEventsPerSecond / Math.max(1, r.eventsPerSecond)));
        refusals[i] = JSON.stringify(r.statuses);
      }
      log(`round ${round + 1}: bare ${Math.round(bareRates.at(-1)!)} req/s, ${threadCounts.map((t, i) => `helios up (gateway.threads ${t}) ${Math.round(upRates[i]!.at(-1)!)} accepted req/s ${refusals[i]}`).join(', ')}`);
    }
  } finally {
    await bare.stop();
    for (const server of ups.slice(1)) await server.stop();
  }
  const bareRate = median(bareRates);
  results.push({ name: 'bare uWS 202, single-event POST', value: bareRate, unit: 'req/s' });
  for (const [i, threads] of threadCounts.entries()) {
    const upRate = median(upRates[i]!);
    results.push({ name: `helios up (defaults${threads === 0 ? '' : `, gateway.threads ${threads}`}), single-event POST`, value: upRate, unit: 'req/s', baseline: 'bare uWS 202, single-event POST', baselineValue: bareRate, ratio: upRate / bareRate });
  }

  // Batched: accepted during the load, stored by the time the store caught up.
  try {
    await sleep(3000); // let the single-event backlog be written first
    const before = await up.storedEvents();
    const started = performance.now();
    const batched = await load(up.url, 'helios', 100, 16, 10);
    const accepted = Math.round(batched.acceptedEventsPerSecond * batched.seconds);
    let stored = (await up.storedEvents()) - before;
    while (stored < accepted && performance.now() - started < 300_000) {
      await sleep(100);
      stored = (await up.storedEvents()) - before;
    }
    const storedRate = stored / ((performance.now() - started) / 1000);
    log(`batched: ${Math.round(batched.acceptedEventsPerSecond)} events/s accepted, ${Math.round(storedRate)} events/s stored end to end, p99 ${batched.latencyMs.p99} ms (statuses ${JSON.stringify(batched.statuses)})`);
    results.push({ name: 'helios up batched (100/request, 16 conn), accepted', value: batched.acceptedEventsPerSecond, unit: 'events/s' });
    results.push({ name: 'helios up batched, stored end to end', value: storedRate, unit: 'events/s', baseline: 'target 100,000 events/s', baselineValue: 100_000, ratio: storedRate / 100_000 });
    results.push({ name: 'helios up batched at max rate, client p99', value: batched.latencyMs.p99, unit: 'ms' });
    await sleep(2000);
    const halfRate = Math.max(1, Math.round(storedRate / 2 / 100));
    const paced = await load(up.url, 'helios', 100, 16, 10, halfRate);
    log(`paced at ${halfRate} req/s (${halfRate * 100} events/s): p50 ${paced.latencyMs.p50} ms, p99 ${paced.latencyMs.p99} ms, statuses ${JSON.stringify(paced.statuses)}`);
    results.push({ name: `helios up batched, client p99 at half the stored rate (${halfRate * 100} events/s)`, value: paced.latencyMs.p99, unit: 'ms', baseline: 'target 50 ms', baselineValue: 50, ratio: paced.latencyMs.p99 / 50 });
  } finally {
    await up.stop();
  }

  // Null-sink gateway: two threads vs one, batched OTLP protobuf logs.
  const one = await startServer('gateway-uws');
  const two = await startServer('gateway-uws-2-threads');
  const oneRates: number[] = [];
  const twoRates: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      oneRates.push((await load(one.url, 'otlp-proto', 100, 64, SECONDS)).acceptedEventsPerSecond);
      twoRates.push((await load(two.url, 'otlp-proto', 100, 64, SECONDS)).acceptedEventsPerSecond);
      log(`round ${round + 1}: null-sink gateway 1 thread ${Math.round(oneRates.at(-1)!)} events/s, 2 threads ${Math.round(twoRates.at(-1)!)} events/s`);
    }
  } finally {
    await one.stop();
    await two.stop();
  }
  const oneRate = median(oneRates);
  const twoRate = median(twoRates);
  results.push({ name: 'gateway (null sink) 1 thread, OTLP protobuf logs 100/request', value: oneRate, unit: 'events/s' });
  results.push({ name: 'gateway (null sink) 2 threads, OTLP protobuf logs 100/request', value: twoRate, unit: 'events/s', baseline: 'gateway (null sink) 1 thread', baselineValue: oneRate, ratio: twoRate / oneRate });
  return results;
}
