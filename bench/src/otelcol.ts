/**
 * The OpenTelemetry Collector as the peer the gateway benches compare with: its OTLP receiver (HTTP
 * and gRPC) in front of the nop exporter, its null sink. The binary is HELIOS_OTELCOL_BIN, else
 * otelcol / otelcorecol / otelcol-contrib on PATH, else ~/.cache/helios/go/bin/otelcol (what
 * bench/src/gateway/otelcol/ builds; scripts/otelcol.sh builds and caches it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningServer {
  url: string;
  /** The server's process id (its CPU time is read from /proc on Linux). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface RunningCollector extends RunningServer {
  /** host:port of its OTLP/gRPC receiver. */
  grpcEndpoint: string;
  /** Spans its OTLP receiver accepted so far (its own otelcol_receiver_accepted_spans metric). */
  acceptedSpans(): Promise<number>;
}

/** User + system CPU seconds a process has used so far; undefined where /proc is not available. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** The collector binary to compare with, or why there is none. */
export function findOtelcol(): { bin: string; version: string } | { skipped: string } {
  const candidates: string[] = [];
  const fromEnv = process.env['HELIOS_OTELCOL_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) return { skipped: `HELIOS_OTELCOL_BIN=${fromEnv} does not exist` };
    candidates.push(fromEnv);
  } else {
    candidates.push('otelcol', 'otelcorecol', 'otelcol-contrib', join(homedir(), '.cache/helios/go/bin/otelcol'));
  }
  for (const bin of candidates) {
    const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (probe.error === undefined && probe.status === 0) return { bin, version: probe.stdout.trim() };
  }
  return {
    skipped: `no OpenTelemetry Collector binary (set HELIOS_OTELCOL_BIN, or put otelcol on PATH; build one with \`bash scripts/otelcol.sh\`)`,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The collector with OTLP/HTTP and OTLP/gRPC receivers and the nop exporter for logs and traces; ready
 * once it answers an empty export. `countSpans` turns on its own metrics (level basic, pulled over
 * Prometheus) so that acceptedSpans() can read them; off, it runs with metrics off, as in production
 * benches.
 */
export async function startOtelcol(bin: string, options: { countSpans?: boolean } = {}): Promise<RunningCollector> {
  const [port, grpcPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'helios-otelcol-'));
  const configFile = join(dir, 'config.yaml');
  const metrics = options.countSpans === true
    ? ['    metrics:', '      level: basic', '      readers:', '        - pull:', '            exporter:', '              prometheus:', '                host: 127.0.0.1', `                port: ${metricsPort}`]
    : ['    metrics:', '      level: none'];
  writeFileSync(configFile, [
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    `        endpoint: 127.0.0.1:${port}`,
    '      grpc:',
    `        endpoint: 127.0.0.1:${grpcPort}`,
    'exporters:',
    '  nop:',
    'service:',
    '  telemetry:',
    '    logs:',
    '      level: warn',
    ...metrics,
    '  pipelines:',
    '    logs:',
    '      receivers: [otlp]',
    '      exporters: [nop]',
    '    traces:',
    '      receivers: [otlp]',
    '      exporters: [nop]',
    '',
  ].join('\n'));
  const child = spawn(bin, [`--config=file:${configFile}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (exited) throw new Error(`the collector exited before it was ready:\n${stderr}`);
    try {
      const answer = await fetch(`${url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) });
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 300) throw new Error(`the collector did not answer on ${url} within 30 s:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    grpcEndpoint: `127.0.0.1:${grpcPort}`,
    pid: child.pid,
    async acceptedSpans() {
      if (options.countSpans !== true) throw new Error('startOtelcol: acceptedSpans() needs countSpans');
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      let total = 0;
      for (const match of text.matchAll(/^otelcol_receiver_accepted_spans(?:_total)?\{[^}]*\} ([\d.e+]+)$/gm)) total += Number(match[1]);
      return total;
    },
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (exited) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}
