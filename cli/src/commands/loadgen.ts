import { runLoad, type LoadFormat, type LoadOptions } from '../loadgen/index.js';
import { HeliosError } from '@helios/core';
import type { Command } from './command.js';
import { liveCounter } from '../live-counter.js';

const FORMATS: readonly LoadFormat[] = ['helios', 'otlp-json', 'otlp-proto'];

/** `--name value` flags into LoadOptions, each checked with the flag and the bad value named. */
function parseLoadArgs(args: readonly string[], defaultUrl: string): LoadOptions {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `loadgen: unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (name === 'gzip') switches.add(name);
    else if (inline !== undefined) values.set(name, inline);
    else if (i + 1 < args.length) values.set(name, args[++i]!);
    else throw new HeliosError('HLS_ERR_CONFIG_INVALID', `loadgen: --${name} needs a value`);
  }
  const known = new Set(['url', 'rate', 'duration', 'connections', 'pipelining', 'batch', 'services', 'error-rate', 'format', 'api-key']);
  for (const name of values.keys()) if (!known.has(name)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `loadgen: unknown flag --${name}; known: ${[...known, 'gzip'].map((k) => `--${k}`).join(', ')}`);
  const number = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const text = values.get(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `loadgen: --${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
  const format = (values.get('format') ?? 'helios') as LoadFormat;
  if (!FORMATS.includes(format)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `loadgen: --format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  const apiKey = values.get('api-key');
  return {
    url: values.get('url') ?? defaultUrl,
    format,
    rate: number('rate', 0, 0),
    durationMs: number('duration', 10, 0.1, 86_400) * 1000,
    connections: Math.floor(number('connections', 64, 1, 10_000)),
    pipelining: Math.floor(number('pipelining', 1, 1, 1024)),
    batchSize: Math.floor(number('batch', 1, 1, 100_000)),
    services: Math.floor(number('services', 8, 1, 100_000)),
    errorRate: number('error-rate', 0.01, 0, 1),
    gzip: switches.has('gzip'),
    ...(apiKey === undefined ? {} : { apiKey }),
  };
}

export const loadgen: Command = {
  name: 'loadgen',
  summary: 'Send load to a gateway (Helios JSON or OTLP) and print events/s, latency and status counts',
  usage: [
    '  helios loadgen [--url http://127.0.0.1:8080] [--format helios|otlp-json|otlp-proto] [--rate <req/s, 0 = max>]',
    '                 [--duration <s>] [--connections 64] [--pipelining 1] [--batch <events/request>] [--services 8]',
    '                 [--error-rate 0.01] [--api-key <key>] [--gzip] [--json]',
  ].join('\n'),
  async run({ loaded, args, json, stdout }) {
    const options = parseLoadArgs(args, `http://127.0.0.1:${loaded.config.gateway.port}`);
    const live = liveCounter(process.stderr);
    const report = await runLoad({
      ...options,
      onProgress: (p) => live.update(`${p.elapsedSeconds}/${Math.round(options.durationMs / 1000)} s  ${p.requests} requests  ${p.accepted} accepted  ${p.failed} failed`),
    });
    live.done();
    if (json) {
      stdout(`${JSON.stringify(report)}\n`);
      return;
    }
    const statuses = Object.entries(report.statuses).map(([s, n]) => `${s}: ${n}`).join(', ') || 'none';
    stdout(
      [
        `${options.format} to ${options.url}: ${report.requests} requests (${options.batchSize} events each) in ${report.seconds.toFixed(1)} s over ${options.connections} connections`,
        `  events/s   ${Math.round(report.eventsPerSecond)} sent, ${Math.round(report.acceptedEventsPerSecond)} accepted (2xx)`,
        `  requests/s ${Math.round(report.requestsPerSecond)}${options.rate > 0 ? ` (target ${options.rate})` : ''}`,
        `  latency    p50 ${report.latencyMs.p50} ms, p90 ${report.latencyMs.p90} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
        `  errors     ${report.errors} (no HTTP answer, or no connection)`,
        `  statuses   ${statuses}`,
      ].join('\n') + '\n',
    );
  },
};
