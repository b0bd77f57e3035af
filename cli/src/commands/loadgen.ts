import { runLoad, type LoadFormat, type LoadOptions } from '../loadgen/index.js';
import { HeliosError } from '@helios/core';
import type { CommandModule, OptionValues } from './command.js';
import { liveCounter } from '../live-counter.js';

const FORMATS: readonly LoadFormat[] = ['helios', 'otlp-json', 'otlp-proto'];

/** The parsed flags into LoadOptions, each checked with the flag and the bad value named. */
function loadOptions(flags: OptionValues, defaultUrl: string): LoadOptions {
  const values = new Map(Object.entries(flags).filter((e): e is [string, string] => typeof e[1] === 'string'));
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
    gzip: flags['gzip'] === true,
    ...(apiKey === undefined ? {} : { apiKey }),
  };
}

export const loadgen: CommandModule = {
  options: {
    url: { type: 'string', value: '<url>', description: 'Gateway to load; default http://127.0.0.1:<gateway.port>' },
    format: { type: 'string', value: '<helios|otlp-json|otlp-proto>', description: 'Body format; default helios' },
    rate: { type: 'string', value: '<req/s>', description: 'Target requests per second; default 0 (as fast as possible)' },
    duration: { type: 'string', value: '<s>', description: 'Seconds to run; default 10' },
    connections: { type: 'string', value: '<n>', description: 'Concurrent connections; default 64' },
    pipelining: { type: 'string', value: '<n>', description: 'Requests in flight per connection; default 1' },
    batch: { type: 'string', value: '<n>', description: 'Events per request; default 1' },
    services: { type: 'string', value: '<n>', description: 'Distinct services in the events; default 8' },
    'error-rate': { type: 'string', value: '<0..1>', description: 'Share of events that are errors; default 0.01' },
    'api-key': { type: 'string', value: '<key>', description: 'API key to send' },
    gzip: { type: 'boolean', description: 'gzip the bodies' },
  },
  async run({ loaded, values, json, stdout }) {
    const options = loadOptions(values, `http://127.0.0.1:${loaded.config.gateway.port}`);
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
