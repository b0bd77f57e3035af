/**
 * OTLP decoder bench: how many Helios events per second one core gets out of OTLP/HTTP bodies.
 *
 * Payloads (bench/src/otlp/payloads.ts): 100 HTTP server spans and 100 log records with trace
 * context, recorded through the OpenTelemetry JS SDK and serialized by its OTLP serializer.
 *
 * Candidates for protobuf:
 *   - `hand-written`: Helios's wire reader (gateway/src/otlp), body → finished HeliosEvents;
 *   - `protobufjs static`: the protobufjs static code generated from opentelemetry-proto that
 *     @opentelemetry/otlp-proto-exporter-base@0.51.1 ships. Measured decode-only (body → protobufjs
 *     message objects, no translation into events), so its figure is an upper bound of what a
 *     protobufjs-based decoder could reach. protobufjs with .proto/JSON descriptors (reflection)
 *     generates the same decoder functions at runtime, so this also stands for that option.
 * For OTLP/JSON: `decodeOtlp` against `JSON.parse` alone (the floor any JSON decoder pays).
 *
 * Each figure is the median of 9 rounds of ~200 ms after a warm-up, the candidates taking turns. `ratio` = candidate / baseline
 * in events per second: above 1 means faster than the baseline.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { newEventId } from '@helios/core';
import { decodeOtlp, type OtlpSignal } from '@helios/gateway/otlp';
import { median, type BenchResult } from '../result.js';
import { applicationLogs, httpServerSpans, type OtlpPayload } from './payloads.js';

const RECORDS_PER_REQUEST = 100;
const WARMUP_MS = 300;
const ROUND_MS = 200;
const ROUNDS = 9;
const context = { tenant: 'bench', now: Date.now() };

interface ProtobufjsType {
  decode(bytes: Uint8Array): unknown;
}

function loadProtobufjsStatic(): Record<OtlpSignal, ProtobufjsType> {
  const require = createRequire(import.meta.url);
  const root = require('@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js') as {
    opentelemetry: { proto: { collector: Record<'trace' | 'logs' | 'metrics', { v1: Record<string, ProtobufjsType> }> } };
  };
  const collector = root.opentelemetry.proto.collector;
  return {
    traces: collector.trace.v1.ExportTraceServiceRequest,
    logs: collector.logs.v1.ExportLogsServiceRequest,
    metrics: collector.metrics.v1.ExportMetricsServiceRequest,
  };
}

/**
 * Requests per second of each candidate, median of ROUNDS rounds. Candidates run in alternating
 * rounds rather than one after the other, so a burst of load from other processes on this 2-core
 * machine hits all of them alike and the ratios stay meaningful.
 */
function requestsPerSecond(candidates: ReadonlyArray<() => unknown>): number[] {
  let sink: unknown;
  const runFor = (decodeOnce: () => unknown, ms: number): number => {
    let iterations = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      for (let i = 0; i < 10; i++) sink = decodeOnce();
      iterations += 10;
      elapsed = performance.now() - start;
    } while (elapsed < ms);
    return (iterations * 1000) / elapsed;
  };
  for (const candidate of candidates) runFor(candidate, WARMUP_MS);
  const rates = candidates.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    candidates.forEach((candidate, i) => rates[i].push(runFor(candidate, ROUND_MS)));
  }
  if (sink === undefined) throw new Error('decoder returned nothing');
  return rates.map(median);
}

/** Nanoseconds per call of `newEventId` (uuid v7), which every decoded event pays. */
function nanosecondsPerEventId(): number {
  const calls = 200_000;
  let sink = '';
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) sink = newEventId();
    samples.push(((performance.now() - start) * 1e6) / calls);
  }
  if (sink === '') throw new Error('no id');
  return median(samples);
}

function compare(name: string, value: number, baseline: string, baselineValue: number): BenchResult {
  return { name, value: Math.round(value), unit: 'events/s', baseline, baselineValue: Math.round(baselineValue), ratio: Number((value / baselineValue).toFixed(3)) };
}

function checkDecodes(signal: OtlpSignal, payload: OtlpPayload): void {
  for (const encoding of ['protobuf', 'json'] as const) {
    const result = decodeOtlp(signal, encoding === 'protobuf' ? payload.protobuf : payload.json, encoding, context);
    if (result.events.length !== payload.records || result.rejected !== 0) {
      throw new Error(`${signal}/${encoding}: decoded ${result.events.length} events, rejected ${result.rejected}, expected ${payload.records}`);
    }
  }
}

export async function runOtlpBench(options: { json: boolean }): Promise<BenchResult[]> {
  const log = (line: string) => {
    if (!options.json) process.stderr.write(`${line}\n`);
  };
  const protobufjs = loadProtobufjsStatic();
  const payloads: Array<[OtlpSignal, OtlpPayload]> = [
    ['traces', await httpServerSpans(RECORDS_PER_REQUEST)],
    ['logs', await applicationLogs(RECORDS_PER_REQUEST)],
  ];
  const results: BenchResult[] = [];
  for (const [signal, payload] of payloads) {
    checkDecodes(signal, payload);
    log(`otlp ${signal}: ${payload.records} records, protobuf ${payload.protobuf.length} bytes, JSON ${payload.json.length} bytes`);
    const perRequest = payload.records;

    const text = new TextDecoder();
    const [handWritten, staticDecodeOnly, jsonDecode, jsonParseOnly] = requestsPerSecond([
      () => decodeOtlp(signal, payload.protobuf, 'protobuf', context),
      () => protobufjs[signal].decode(payload.protobuf),
      () => decodeOtlp(signal, payload.json, 'json', context),
      () => JSON.parse(text.decode(payload.json)),
    ]).map((perSecond) => perSecond * perRequest);
    results.push(compare(`otlp.${signal}.protobuf.hand-written (body to events)`, handWritten, 'protobufjs static code, decode only (no events)', staticDecodeOnly));
    results.push({ name: `otlp.${signal}.protobuf.protobufjs-static (decode only)`, value: Math.round(staticDecodeOnly), unit: 'events/s' });

    results.push(compare(`otlp.${signal}.json (body to events)`, jsonDecode, 'TextDecoder + JSON.parse only', jsonParseOnly));
    results.push({ name: `otlp.${signal}.protobuf.body`, value: payload.protobuf.length, unit: 'bytes' });
    results.push({ name: `otlp.${signal}.json.body`, value: payload.json.length, unit: 'bytes' });
  }
  const idCost = nanosecondsPerEventId();
  results.push({ name: 'otlp.event-id (newEventId, uuid v7, paid once per event)', value: Math.round(idCost), unit: 'ns/event' });
  return results;
}
