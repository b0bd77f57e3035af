import { parseArgs } from 'node:util';
import { runGatewayBench } from './gateway/suite.js';
import { runPipelineBench } from './gateway/pipeline-suite.js';
import { runIsolationForestBench } from './isolation-forest/suite.js';
import { runKafkaBench } from './kafka/suite.js';
import { runOtlpBench } from './otlp/suite.js';
import { runOtlpGrpcBench } from './otlp-grpc/suite.js';
import { runReportingBench } from './reporting/suite.js';
import type { BenchResult, BenchSuite } from './result.js';
import { runSdkBench } from './sdk/suite.js';
import { runStoreBench } from './store/suite.js';
import { runEventSearchBench } from './store/event-search.js';
import { runValidatorBench } from './validator/suite.js';

/** Every suite `npm run bench -- <suite>` knows; `all` runs them in this order. */
const SUITES: BenchSuite[] = [
  { name: 'validator', summary: 'event validation: TypeBox vs Ajv, normalize cost', run: runValidatorBench },
  { name: 'isolation-forest', summary: 'Isolation Forest scoring/training speed and parity vs scikit-learn', run: runIsolationForestBench },
  { name: 'otlp', summary: 'OTLP protobuf/JSON decoding into Helios events', run: runOtlpBench },
  { name: 'otlp-grpc', summary: 'OTLP/gRPC vs OTLP/HTTP into the same gateway (null sink), Node clients and telemetrygen; the OpenTelemetry Collector on the same telemetrygen gRPC load (HELIOS_TELEMETRYGEN_BIN, HELIOS_OTELCOL_BIN)', run: runOtlpGrpcBench },
  { name: 'store', summary: 'writes into PGlite / PostgreSQL (HELIOS_PG_URL), COPY vs multi-row, context queries', run: runStoreBench },
  { name: 'event-search', summary: 'GET /api/v1/events query shapes (p50/p99) on HELIOS_BENCH_SEARCH_EVENTS events (default 1M) written by the store writer; PostgreSQL (HELIOS_PG_URL) or PGlite', run: runEventSearchBench },
  { name: 'gateway', summary: 'gateway HTTP throughput vs bare uWebSockets.js, batches, p99 at half rate, uWS vs node:http (wrk)', run: runGatewayBench },
  { name: 'pipeline', summary: '`helios up` defaults (gateway threads + pipeline thread) vs bare uWS; batched events stored end to end, p99 at half rate; null-sink gateway 2 threads vs 1', run: runPipelineBench },
  { name: 'sdk', summary: 'SDK event() cost and HTTP middleware overhead', run: runSdkBench },
  { name: 'kafka', summary: 'gateway -> Kafka (HELIOS_KAFKA_BROKERS) vs the same gateway into a null sink; compression none/gzip/snappy/lz4', run: runKafkaBench },
  { name: 'reporting', summary: 'anomaly -> stored report on PGlite with ~1M events: template and LLM path (instant fake model)', run: runReportingBench },
];

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs >= 10) return x.toFixed(1);
  return x.toPrecision(3);
}

function printTable(suite: string, results: BenchResult[]): void {
  const rows = results.map((r) => [r.name, formatNumber(r.value), r.unit, r.ratio === undefined ? '' : `${r.ratio >= 0.1 ? r.ratio.toFixed(3) : r.ratio.toPrecision(3)}x`, r.baseline ?? '']);
  const header = ['result', 'value', 'unit', 'ratio', 'vs baseline (same run)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`\n## ${suite}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
}

async function main(argv: string[]): Promise<void> {
  // node:util parseArgs, as the CLI: an unknown flag is refused, not taken for a suite or ignored.
  const { values, positionals: names } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  const json = values.json === true;
  if (values.help === true) names.push('help');
  if (names.length === 0 || names.includes('help')) {
    process.stdout.write(`Usage: npm run bench -- <suite>|all [--json]\n\nSuites:\n${SUITES.map((s) => `  ${s.name.padEnd(18)}${s.summary}`).join('\n')}\n`);
    return;
  }
  const selected = names.includes('all') ? SUITES : names.map((n) => SUITES.find((s) => s.name === n) ?? (() => { throw new Error(`unknown suite "${n}"; known: ${SUITES.map((s) => s.name).join(', ')}`); })());
  for (const suite of selected) {
    const results = await suite.run({ json });
    if (json) for (const r of results) process.stdout.write(`${JSON.stringify({ suite: suite.name, ...r })}\n`);
    else printTable(suite.name, results);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
