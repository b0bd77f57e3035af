import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dashboardsRoot } from '../src/index.js';
import { findBinary } from './promtool.js';

const prometheus = findBinary('prometheus');
const heliosBin = join(dashboardsRoot, '..', 'cli', 'dist', 'bin', 'helios.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Resolves with the first stderr line of `child` matching `pattern`; rejects if it exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) resolve(line);
    });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${output}`)));
  });
}

describe.skipIf(prometheus === undefined)('a real Prometheus scraping `helios up`', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  });

  it('finds the helios_ series through its HTTP API', async () => {
    expect(existsSync(heliosBin), `${heliosBin} missing: run npx tsc -b first`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'helios-prometheus-'));
    writeFileSync(join(dir, 'helios.config.yaml'), `dataDir: ${join(dir, 'data')}\ngateway:\n  host: 127.0.0.1\n  port: 0\n  otlpPort: -1\n  otlpGrpcPort: -1\n`);
    const helios = spawn(process.execPath, [heliosBin, 'up', '--config', join(dir, 'helios.config.yaml')], { cwd: dir, env: { ...process.env, HELIOS_PORT: '', HELIOS_CONFIG: '', HELIOS_DATA_DIR: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(helios);
    const { port } = JSON.parse(await waitForLine(helios, /helios ready/, 'helios up')) as { port: number };
    const sent = await fetch(`http://127.0.0.1:${port}/api/v1/events`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ service: 'checkout', level: 'INFO', message: 'ok', metadata: { latency_ms: 12 } }, { service: 'payments', level: 'ERROR', message: 'timeout' }]),
    });
    expect(sent.status).toBe(202);

    const promPort = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: helios\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`);
    const prom = spawn(prometheus!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(prom);
    await waitForLine(prom, /Server is ready to receive web requests/, 'prometheus');

    const api = `http://127.0.0.1:${promPort}/api/v1`;
    const deadline = Date.now() + 30_000;
    let names: string[] = [];
    let ingested: Array<{ metric: Record<string, string>; value: [number, string] }> = [];
    while (Date.now() < deadline) {
      names = ((await (await fetch(`${api}/label/__name__/values`)).json()) as { data: string[] }).data;
      ingested = ((await (await fetch(`${api}/query?query=${encodeURIComponent('helios_events_ingested_total')}`)).json()) as { data: { result: typeof ingested } }).data.result;
      if (ingested.length >= 2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const name of ['helios_events_ingested_total', 'helios_ingestion_latency_seconds_bucket', 'helios_http_requests_total', 'helios_process_cpu_seconds_total']) expect(names).toContain(name);
    expect(ingested.map((s) => `${s.metric['service']} ${s.metric['level']} ${s.value[1]}`).sort()).toEqual(['checkout INFO 1', 'payments ERROR 1']);
    const up = ((await (await fetch(`${api}/query?query=up`)).json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
    expect(up.map((s) => s.value[1])).toEqual(['1']);
  }, 60_000);
});
