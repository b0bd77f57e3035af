import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isHeliosError, resolveConfig } from '@helios/core';
import { loadPlugin, PLUGIN_API_VERSION } from '@helios/plugins';
import { testHost, windowSeries } from '@helios/plugins/testing';
import { scaffoldPlugin } from '../commands/plugin.js';
import { formatPluginsReport, listPlugins, pluginHealthFromMetrics } from '../commands/plugins.js';

/** The range `helios plugin new` declares: this Helios's plugin API major.minor. */
const API_RANGE = `^${PLUGIN_API_VERSION.split('.').slice(0, 2).join('.')}.0`;

describe('helios plugin new', () => {
  it('writes a package declaring the API range, with templates filled in', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'helios-scaffold-')), 'out');
    const result = scaffoldPlugin({ name: '@acme/helios-reporter-x', kind: 'reporter', dir, description: 'Sends reports to X.' });
    expect(result.files).toEqual(['.gitignore', 'README.md', 'index.js', 'index.test.js', 'package.json']);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(/^# @acme\/helios-reporter-x\n\nSends reports to X\./);
    expect(readme).not.toMatch(/\{\{\w+\}\}/);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ helios: { kind: 'reporter', apiVersion: API_RANGE }, peerDependencies: { '@helios/plugins': '^0.1.0' } });
  });

  it('refuses a bad name, an unknown kind and a folder that is not empty, naming what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-scaffold-'));
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return isHeliosError(err) ? `${err.code}: ${err.message}` : String(err);
      }
      return 'accepted';
    };
    expect(refusal(() => scaffoldPlugin({ name: 'My Plugin', kind: 'detector', dir: join(dir, 'a') }))).toMatch(/^HLS_ERR_CONFIG_INVALID: name: not a valid npm package name, got "My Plugin"/);
    expect(refusal(() => scaffoldPlugin({ name: 'p', kind: 'exporter' as never, dir: join(dir, 'b') }))).toMatch(/--kind: expected one of detector, reporter, got "exporter"/);
    writeFileSync(join(dir, 'existing.txt'), 'keep me');
    expect(refusal(() => scaffoldPlugin({ name: 'p', kind: 'detector', dir }))).toMatch(/--dir: .* exists and is not empty/);
    expect(readFileSync(join(dir, 'existing.txt'), 'utf8')).toBe('keep me');
  });
});

describe('helios plugins list', () => {
  it('reads calls, errors, timeouts and time per hook from the metrics the guard exports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-health-'));
    writeFileSync(join(dir, 'flaky.mjs'), `let n = 0; export default { kind: 'detector', name: 'my "odd" plugin', version: '1.0.0', apiVersion: '^1.0.0',
      setup() { return { detect() { n++; if (n === 2) throw new Error('no'); if (n === 3) return new Promise(() => {}); return undefined; }, shutdown() {} }; } };`);
    const host = testHost({ dataDir: dir, baseDir: dir, timeoutMs: 20 });
    const flaky = await loadPlugin({ use: './flaky.mjs' }, 'detector', 0, host);
    for (const window of windowSeries(3)) await flaky.guard.call('detect', () => flaky.hooks.detect(window));
    await flaky.shutdown();
    const registry = host.metrics;
    const health = pluginHealthFromMetrics(await registry.metrics());
    expect(health.get('my "odd" plugin')).toEqual({
      setup: { calls: 1, errors: 0, timeouts: 0, seconds: expect.any(Number) },
      detect: { calls: 3, errors: 2, timeouts: 1, seconds: expect.any(Number) },
      shutdown: { calls: 1, errors: 0, timeouts: 0, seconds: expect.any(Number) },
    });
  });

  it('lists the configured plugins without a running Helios, and refuses an explicit --url that does not answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-list-'));
    writeFileSync(join(dir, 'broken.mjs'), `export default { kind: 'reporter', name: 'broken', version: 'one', apiVersion: '^1.0.0', setup() {} };`);
    const config = resolveConfig({ gateway: { host: '127.0.0.1', port: 1 }, plugins: { detectors: [{ use: '@helios/detector-isolation-forest' }], reporters: [{ use: './broken.mjs' }, { use: '@acme/not-installed' }] } });
    const report = await listPlugins({ config, baseDir: dir });
    expect(report.metrics).toMatchObject({ url: 'http://127.0.0.1:1/metrics', ok: false });
    expect(report.plugins.map((p) => [p.use, p.loadable])).toEqual([['@helios/detector-isolation-forest', true], ['./broken.mjs', false], ['@acme/not-installed', false]]);
    expect(report.plugins[1]!.problem).toMatch(/version: expected a semver version, got "one"/);
    expect(report.plugins[2]!.problem).toMatch(/cannot find plugin "@acme\/not-installed"/);
    const text = formatPluginsReport(report);
    expect(text).toMatch(/health: no Helios answered at http:\/\/127\.0\.0\.1:1\/metrics/);
    expect(text).toMatch(/plugins\.reporters\[1\] \(@acme\/not-installed\): cannot find plugin/);
    const explicit = await listPlugins({ config, baseDir: dir, url: 'http://127.0.0.1:1' }).then(() => 'answered', (e: unknown) => (e as Error).message);
    expect(explicit).toMatch(/^--url: could not read http:\/\/127\.0\.0\.1:1\/metrics/);
  });
});
