import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '@helios/core';
import { DEMO_SERVICES, minuteOfTraffic, seededRandom } from '../traffic.js';
import type { PluginsReport } from '../commands/plugins.js';
import { PLUGIN_API_VERSION } from '@helios/plugins';

/** The range `helios plugin new` declares: this Helios's plugin API major.minor. */
const API_RANGE = `^${PLUGIN_API_VERSION.split('.').slice(0, 2).join('.')}.0`;

const root = resolve(import.meta.dirname, '..', '..', '..');
const heliosBin = join(root, 'cli', 'dist', 'bin', 'helios.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion; never through a shell, so paths need no quoting. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, HELIOS_PORT: '', HELIOS_CONFIG: '', HELIOS_DATA_DIR: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

const helios = (args: string[], cwd: string) => run(process.execPath, [heliosBin, ...args], cwd);
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd, { npm_config_update_notifier: 'false' });

/**
 * A package that imports `@helios/plugins` finds it where an installed Helios puts it: in node_modules next
 * to the config (here a link to this workspace's package, standing in for `npm install @helios/cli`).
 */
function provideHeliosPlugins(dir: string): void {
  mkdirSync(join(dir, 'node_modules', '@helios'), { recursive: true });
  if (!existsSync(join(dir, 'node_modules', '@helios', 'plugins'))) symlinkSync(join(root, 'plugins'), join(dir, 'node_modules', '@helios', 'plugins'), 'dir');
}

async function pack(dir: string, destination: string): Promise<string> {
  const packed = await npm(['pack', '--json', '--pack-destination', destination], dir);
  expect(packed.code, packed.stderr).toBe(0);
  return join(destination, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
}

/**
 * The path a third-party author takes, without the network: `helios plugin new` a detector and a reporter,
 * run their own tests, `npm pack` them, install the tarballs into a fresh Helios setup, name them in its
 * config, run `helios up` on it and watch them receive windows and incidents from the running pipeline.
 */
describe('plugin ecosystem: scaffold -> test -> pack -> install -> run', () => {
  let work: string;
  let setup: string;
  const detectorName = '@acme/helios-detector-error-spike';
  const reporterName = '@acme/helios-reporter-jsonl';
  const futureName = '@acme/helios-detector-from-the-future';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'helios-plugin-author-'));
    setup = join(work, 'helios-setup');
    mkdirSync(setup);
  });

  it('scaffolds plugins whose own tests pass, packs them and installs the tarballs offline', async () => {
    for (const [name, kind] of [[detectorName, 'detector'], [reporterName, 'reporter']] as const) {
      const made = await helios(['plugin', 'new', name, '--kind', kind], work);
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toContain(`Created ${kind} plugin ${name}`);
    }
    const detectorDir = join(work, 'helios-detector-error-spike');
    const reporterDir = join(work, 'helios-reporter-jsonl');
    const pkg = JSON.parse(readFileSync(join(detectorDir, 'package.json'), 'utf8')) as Record<string, any>;
    expect(pkg).toMatchObject({ name: detectorName, type: 'module', helios: { kind: 'detector', apiVersion: API_RANGE }, peerDependencies: { '@helios/plugins': '^0.1.0' } });

    // A plugin built against a future plugin API: the same code, declaring a range this Helios does not provide.
    const futureDir = join(work, 'helios-detector-from-the-future');
    cpSync(detectorDir, futureDir, { recursive: true });
    writeFileSync(join(futureDir, 'package.json'), JSON.stringify({ ...pkg, name: futureName, helios: { ...pkg['helios'], apiVersion: '^2.0.0' } }, null, 2));

    // Each plugin's own install and test suite, as its author runs them: a plain `npm install` (the
    // scaffold points @helios/plugins at this checkout), then `npm test` (`node --test`).
    expect(pkg['devDependencies']).toEqual({ '@helios/plugins': `file:${realpathSync(join(root, 'plugins'))}` });
    for (const dir of [detectorDir, reporterDir]) {
      const installed = await npm(['install', '--offline'], dir);
      expect(installed.code, installed.stderr).toBe(0);
    }
    const tests = await Promise.all([detectorDir, reporterDir].map((dir) => npm(['test'], dir)));
    for (const t of tests) {
      expect(t.code, t.stdout + t.stderr).toBe(0);
      expect(t.stdout).toMatch(/# fail 0/);
      expect(t.stdout).toMatch(/ok \d+ - passes the Helios plugin conformance check/);
    }

    const tarballs = [];
    for (const dir of [detectorDir, reporterDir, futureDir]) tarballs.push(await pack(dir, work));
    writeFileSync(join(setup, 'package.json'), JSON.stringify({ name: 'helios-setup', private: true }));
    // A plain install: the peer (@helios/plugins) is optional, so npm does not fetch Helios; it is provided below.
    const installed = await npm(['install', '--offline', ...tarballs], setup);
    expect(installed.code, installed.stderr).toBe(0);
    provideHeliosPlugins(setup);
    const files = readFileSync(join(setup, 'node_modules', '@acme', 'helios-detector-error-spike', 'package.json'), 'utf8');
    expect(JSON.parse(files)).toMatchObject({ name: detectorName, version: '0.1.0' });
    expect(existsSync(join(setup, 'node_modules', '@acme', 'helios-detector-error-spike', 'index.test.js'))).toBe(false); // only `files` are published
  }, 120_000);

  it('runs them in `helios up`: the detector judges windows and opens an incident, the reporter delivers it; `helios plugins list` shows both', async () => {
    writeFileSync(join(setup, 'helios.config.yaml'), `dataDir: ./data
gateway: { host: 127.0.0.1, port: 0, otlpPort: -1, otlpGrpcPort: -1 }
detection: { idleFlushMs: 1000 }
plugins:
  detectors:
    - use: '${detectorName}'
      options: { factor: 4 }
  reporters:
    - use: '@helios/reporter-template'
    - use: '${reporterName}'
      options: { file: ./incidents.jsonl }
`);
    const child = spawn(process.execPath, [heliosBin, 'up', '--config', join(setup, 'helios.config.yaml')], {
      cwd: setup, env: { ...process.env, HELIOS_PORT: '', HELIOS_CONFIG: '', HELIOS_DATA_DIR: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const { port } = await new Promise<{ port: number }>((resolveReady, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const line = stderr.split('\n').find((l) => l.includes('helios ready'));
          if (line !== undefined) resolveReady(JSON.parse(line) as { port: number });
        });
        void exited.then((code) => reject(new Error(`helios up exited (${code}): ${stderr}`)));
      });
      const base = `http://127.0.0.1:${port}`;

      // 60 minutes of checkout traffic, DB_TIMEOUT errors on payments from minute 40 to 52.
      const random = seededRandom(7);
      const checkout = DEMO_SERVICES.find((s) => s.service === 'checkout')!;
      const start = Math.floor((Date.now() - 60 * 60_000) / 60_000) * 60_000;
      for (let m = 0; m < 60; m += 10) {
        const batch: EventInput[] = [];
        for (let k = m; k < m + 10; k++) batch.push(...minuteOfTraffic(checkout, start + k * 60_000, random, k >= 40 && k < 52 ? 'error-burst' : undefined));
        const res = await fetch(`${base}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
        expect(res.status).toBe(202);
      }

      // The running pipeline hands windows to the installed detector, which opens an incident; the installed
      // reporter receives the report. Wait (bounded) for the line it appends.
      const jsonl = join(setup, 'incidents.jsonl');
      // A complete line, not just the file: the append may be under way when the file first appears.
      const hasLine = () => existsSync(jsonl) && readFileSync(jsonl, 'utf8').includes('\n');
      for (let i = 0; i < 300 && !hasLine(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(hasLine(), `no report delivered; helios log:\n${stderr}`).toBe(true);
      const delivered = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
      expect(delivered[0]).toMatchObject({ service: 'checkout', detector: detectorName });
      expect(delivered[0]!.summary).toMatch(/error rate/);

      const anomalies = (await (await fetch(`${base}/api/v1/anomalies?limit=10`)).json()) as { items: Array<{ detector: string; service: string; explanation: Array<{ feature: string }> }> };
      expect(anomalies.items[0]).toMatchObject({ detector: detectorName, service: 'checkout' });
      expect(anomalies.items[0]!.explanation[0]!.feature).toBe('error_rate');
      type Deliveries = Array<{ reporter: string; status: string; location?: string }>;
      let deliveries: Deliveries = [];
      for (let i = 0; i < 100 && deliveries.length === 0; i++) {
        deliveries = ((await (await fetch(`${base}/api/v1/reports?limit=1`)).json()) as { items: Array<{ deliveries: Deliveries }> }).items[0]?.deliveries ?? [];
        if (deliveries.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(deliveries).toContainEqual(expect.objectContaining({ reporter: reporterName, status: 'delivered', location: jsonl }));

      // `helios plugins list` against the running Helios: where each plugin came from, versions, API ranges, health.
      const listed = await helios(['plugins', 'list', '--config', join(setup, 'helios.config.yaml'), '--url', base, '--json'], setup);
      expect(listed.code, listed.stderr).toBe(0);
      const list = JSON.parse(listed.stdout) as PluginsReport;
      expect(list.metrics.ok).toBe(true);
      const detector = list.plugins.find((p) => p.name === detectorName)!;
      expect(detector).toMatchObject({ kind: 'detector', version: '0.1.0', apiVersion: API_RANGE, loadable: true, source: join(setup, 'node_modules', '@acme', 'helios-detector-error-spike', 'index.js') });
      expect(detector.health!['detect']!.calls).toBeGreaterThan(40);
      expect(detector.health!['detect']!.errors).toBe(0);
      const reporter = list.plugins.find((p) => p.name === reporterName)!;
      expect(reporter.health!['deliver']!.calls).toBe(delivered.length);
      expect(list.plugins.find((p) => p.name === '@helios/reporter-template')).toMatchObject({ loadable: true, health: { compose: expect.objectContaining({ calls: delivered.length }) } });

      const shown = await helios(['plugins', 'list', '--config', join(setup, 'helios.config.yaml'), '--url', base], setup);
      expect(shown.stdout).toMatch(new RegExp(`detector\\s+${detectorName}\\s+0\\.1\\.0\\s+${API_RANGE.replace(/[.^]/g, (c) => `\\${c}`)}\\s+ok\\s+\\S+helios-detector-error-spike/index\\.js\\s+detect: \\d+ calls, 0 errors`));
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 120_000);

  it('refuses at start a plugin built for another plugin API, naming both versions; `helios plugins list` says so too', async () => {
    const config = join(setup, 'future.config.yaml');
    writeFileSync(config, `dataDir: ./data-future\ngateway: { host: 127.0.0.1, port: 0, otlpPort: -1, otlpGrpcPort: -1 }\nplugins:\n  detectors:\n    - use: '${futureName}'\n`);
    const up = await helios(['up', '--config', config], setup);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('HLS_ERR_PLUGIN_API_MISMATCH');
    expect(up.stderr).toContain(`${futureName}@0.1.0 supports plugin API ^2.0.0, but this Helios provides plugin API ${PLUGIN_API_VERSION}`);

    const listed = await helios(['plugins', 'list', '--config', config, '--json'], setup);
    expect(listed.code).toBe(1);
    const list = JSON.parse(listed.stdout) as PluginsReport;
    expect(list.plugins[0]).toMatchObject({ name: futureName, apiVersion: '^2.0.0', loadable: false, problem: expect.stringContaining(`provides plugin API ${PLUGIN_API_VERSION}`) });
  }, 60_000);

});
