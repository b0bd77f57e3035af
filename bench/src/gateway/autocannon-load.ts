import autocannon from 'autocannon';
import { prepareRequests, type LoadOptions, type LoadProgress, type LoadReport } from '@helios/cli/loadgen';

// The gateway suite's load generator: autocannon, which every gateway figure in bench/RESULTS.md was
// measured with, kept here so those figures stay comparable. `helios loadgen` (product code) uses its
// own dependency-free runner (cli/src/loadgen/run-load.ts) with the same options, bodies and report.

/**
 * Runs the load with autocannon: its clients write prebuilt requests on raw sockets, which drove
 * several times more load here than undici's Pool (measured in the gateway bench).
 */
export async function runAutocannonLoad(options: LoadOptions): Promise<LoadReport> {
  const prepared = prepareRequests(options);
  const run = autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: options.pipelining ?? 1,
    duration: options.durationMs / 1000,
    ...(options.rate > 0 ? { overallRate: options.rate } : {}),
    requests: prepared.bodies.map((body) => ({ method: 'POST' as const, path: prepared.path, headers: prepared.headers, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) })),
  }) as unknown as Promise<autocannon.Result> & NodeJS.EventEmitter; // the tracker is both: an emitter that is also thenable
  const progress: LoadProgress = { elapsedSeconds: 0, requests: 0, accepted: 0, failed: 0 };
  if (options.onProgress !== undefined) {
    run.on('response', (_client: unknown, statusCode: number) => {
      progress.requests++;
      if (statusCode >= 200 && statusCode < 300) progress.accepted++;
      else progress.failed++;
    });
    run.on('reqError', () => {
      progress.requests++;
      progress.failed++;
    });
    run.on('tick', () => {
      progress.elapsedSeconds++;
      options.onProgress!({ ...progress });
    });
  }
  const result = await run;
  const statuses: Record<string, number> = {};
  let accepted = 0;
  for (const [status, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[status] = stat.count ?? 0;
    if (status.startsWith('2')) accepted += stat.count ?? 0;
  }
  const seconds = result.duration;
  const requests = result.requests.total;
  return {
    format: options.format,
    requests,
    events: requests * options.batchSize,
    seconds,
    requestsPerSecond: requests / seconds,
    eventsPerSecond: (requests * options.batchSize) / seconds,
    acceptedEventsPerSecond: (accepted * options.batchSize) / seconds,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors + result.timeouts,
    statuses,
  };
}
