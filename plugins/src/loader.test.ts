import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeliosError, type FeatureWindow } from '@helios/core';
import { PLUGIN_API_VERSION } from './define.js';
import { checkPluginSpec, loadPlugin, loadPlugins, packageFolderEntry, resolvePluginOptions } from './loader.js';
import { testHost, windowSeries } from './testing/index.js';

const root = resolve(import.meta.dirname, '..', '..');

/** Writes a plugin module (plain JS, as a published package would ship) and returns its folder. */
function pluginFile(body: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'helios-plugin-'));
  writeFileSync(join(dir, 'plugin.mjs'), body);
  return { dir, file: './plugin.mjs' };
}

const detector = (extra = '', hooks = 'detect: (w) => ({ score: w.features.error_rate, threshold: 0.5, anomalous: w.features.error_rate > 0.5, explanation: [], modelVersion: "t" })') => `
export default {
  kind: 'detector', name: 'test-detector', version: '1.2.3', apiVersion: '^1.0.0',
  configSchema: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, default: 5 } }, additionalProperties: false },
  setup(ctx) { ${extra} return { ${hooks} }; },
};`;

async function loadError(promise: Promise<unknown>): Promise<HeliosError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HeliosError);
  return err as HeliosError;
}

describe('plugin loader', () => {
  it('loads a plugin from a path with defaults applied to its options', async () => {
    const { dir, file } = pluginFile(detector('globalThis.__opts = ctx.options;'));
    const plugin = await loadPlugin({ use: file }, 'detector', 0, testHost({ baseDir: dir, dataDir: dir }));
    expect(plugin.name).toBe('test-detector');
    expect((globalThis as Record<string, unknown>)['__opts']).toEqual({ limit: 5 });
  });

  it('refuses an unknown plugin, naming it', async () => {
    const err = await loadError(loadPlugin({ use: '@nobody/helios-nothing' }, 'detector', 2, testHost({ baseDir: root, dataDir: root })));
    expect(err.code).toBe('HLS_ERR_PLUGIN_NOT_FOUND');
    expect(err.message).toContain('plugins.detectors[2] (@nobody/helios-nothing)');
  });

  it('refuses bad options naming the plugin and the field', async () => {
    const { dir, file } = pluginFile(detector());
    const err = await loadError(loadPlugin({ use: file, options: { limit: 0, extra: true } }, 'detector', 1, testHost({ baseDir: dir, dataDir: dir })));
    expect(err.code).toBe('HLS_ERR_PLUGIN_CONFIG');
    expect(err.details).toEqual(expect.arrayContaining([expect.stringMatching(/^plugins\.detectors\[1\]\.options\.limit: /), 'plugins.detectors[1].options.extra: unknown field']));
    expect(err.message).toContain('test-detector');
  });

  it('refuses a plugin built for another plugin API, naming both versions', async () => {
    const { dir, file } = pluginFile(detector().replace("apiVersion: '^1.0.0'", "apiVersion: '^2.0.0'"));
    const err = await loadError(loadPlugin({ use: file }, 'detector', 0, testHost({ baseDir: dir, dataDir: dir })));
    expect(err.code).toBe('HLS_ERR_PLUGIN_API_MISMATCH');
    expect(err.message).toContain(`supports plugin API ^2.0.0, but this Helios provides plugin API ${PLUGIN_API_VERSION}`);
  });

  it('refuses a train hook that is not a function, and loads one that is (plugin API 1.2)', async () => {
    const bad = pluginFile(detector('', 'detect: () => undefined, train: 42'));
    const err = await loadError(loadPlugin({ use: bad.file }, 'detector', 0, testHost({ baseDir: bad.dir, dataDir: bad.dir })));
    expect(err.code).toBe('HLS_ERR_PLUGIN_INVALID');
    expect(err.message).toContain('train: expected a function or nothing');
    const good = pluginFile(detector('', 'detect: () => undefined, async train({ windows }) { let n = 0; for await (const page of windows) n += page.length; return { series: { "t/s": { trained: n > 0, trainingWindows: n } } }; }'));
    const plugin = await loadPlugin({ use: good.file }, 'detector', 0, testHost({ baseDir: good.dir, dataDir: good.dir }));
    async function* pages() { yield windowSeries(3); yield windowSeries(2); }
    expect(await plugin.hooks.train!({ windows: pages() })).toEqual({ series: { 't/s': { trained: true, trainingWindows: 5 } } });
  });

  it('refuses a detector listed as a reporter, and a module without a plugin', async () => {
    const { dir, file } = pluginFile(detector());
    expect((await loadError(loadPlugin({ use: file }, 'reporter', 0, testHost({ baseDir: dir, dataDir: dir })))).message).toContain('kind: expected "reporter", got "detector"');
    const empty = pluginFile('export const x = 1;');
    expect((await loadError(loadPlugin({ use: empty.file }, 'detector', 0, testHost({ baseDir: empty.dir, dataDir: empty.dir })))).code).toBe('HLS_ERR_PLUGIN_INVALID');
  });

  it('names the bad value of every refused option, falsy ones included (trees: 0 says got 0, not undefined)', () => {
    const plugin = { kind: 'detector', name: 'p', version: '1.0.0', apiVersion: '^1.0.0', setup: () => ({}), configSchema: { type: 'object', properties: { limit: { type: 'integer', minimum: 1 } } } } as never;
    fc.assert(
      fc.property(fc.integer({ max: 0 }), (limit) => {
        const err = (() => {
          try {
            resolvePluginOptions(plugin, { limit }, 'plugins.detectors[0]');
          } catch (e) {
            return e as HeliosError;
          }
          throw new Error('accepted');
        })();
        expect(err.details).toEqual([`plugins.detectors[0].options.limit: must be >= 1, got ${limit}`]);
      }),
    );
  });

  it('loads a package folder (use: ./folder) through its package.json: exports, then main, then index.js', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-plugin-folder-'));
    const cases: Array<[string, object | undefined, string]> = [
      ['by-exports', { exports: { '.': { types: './x.d.ts', import: './lib/entry.mjs' } } }, 'lib/entry.mjs'],
      ['by-exports-string', { exports: './lib/entry.mjs' }, 'lib/entry.mjs'],
      ['by-main', { main: 'lib/entry.mjs' }, 'lib/entry.mjs'],
      ['by-index', undefined, 'index.js'],
    ];
    for (const [name, manifest, entry] of cases) {
      mkdirSync(join(dir, name, 'lib'), { recursive: true });
      if (manifest !== undefined) writeFileSync(join(dir, name, 'package.json'), JSON.stringify({ name, type: 'module', ...manifest }));
      writeFileSync(join(dir, name, entry), detector().replace("'test-detector'", `'${name}'`).replace('export default', entry.endsWith('.js') ? 'module.exports =' : 'export default'));
      expect(packageFolderEntry(join(dir, name))).toBe(join(dir, name, entry));
      const plugin = await loadPlugin({ use: `./${name}` }, 'detector', 0, testHost({ baseDir: dir, dataDir: dir }));
      expect(plugin.name).toBe(name);
      expect(plugin.source).toBe(join(dir, name, entry));
    }
  });

  it('checkPluginSpec reports every problem without running setup()', async () => {
    const { dir, file } = pluginFile(detector('globalThis.__setupRan = true;'));
    const check = await checkPluginSpec({ use: file, options: { limit: 0, extra: 1 } }, 'detector', 3, dir);
    expect(check).toMatchObject({ name: 'test-detector', version: '1.2.3' });
    expect(check.problems).toEqual(expect.arrayContaining(['plugins.detectors[3].options.limit: must be >= 1, got 0 (./plugin.mjs)', 'plugins.detectors[3].options.extra: unknown field (./plugin.mjs)']));
    expect((globalThis as Record<string, unknown>)['__setupRan']).toBeUndefined();
    expect((await checkPluginSpec({ use: file }, 'detector', 0, dir)).problems).toEqual([]);
  });

  it('shuts down the plugins already loaded when a later one fails', async () => {
    const ok = pluginFile(detector('', 'detect: () => undefined, shutdown: () => { globalThis.__shutdowns = (globalThis.__shutdowns ?? 0) + 1; }'));
    writeFileSync(join(ok.dir, 'bad.mjs'), 'export default 42;');
    await loadError(loadPlugins([{ use: ok.file }, { use: './bad.mjs' }], 'detector', testHost({ baseDir: ok.dir, dataDir: ok.dir })));
    expect((globalThis as Record<string, unknown>)['__shutdowns']).toBe(1);
  });
});

describe('plugin isolation', () => {
  const window: FeatureWindow = windowSeries(1)[0]!;

  it('a throwing hook is counted and reported as a value, never thrown', async () => {
    const { dir, file } = pluginFile(detector('', 'detect: () => { throw new Error("kaput"); }'));
    const plugin = await loadPlugin({ use: file }, 'detector', 0, testHost({ baseDir: dir, dataDir: dir }));
    const result = await plugin.guard.call('detect', () => plugin.hooks.detect(window));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('HLS_ERR_PLUGIN_FAILED');
    expect(plugin.guard.health).toMatchObject({ calls: 2, errors: 1, timeouts: 0 });
  });

  it('a hanging hook times out', async () => {
    const { dir, file } = pluginFile(detector('', 'detect: () => new Promise(() => {})'));
    const plugin = await loadPlugin({ use: file }, 'detector', 0, testHost({ baseDir: dir, dataDir: dir, timeoutMs: 50 }));
    const result = await plugin.guard.call('detect', () => plugin.hooks.detect(window));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('HLS_ERR_PLUGIN_TIMEOUT');
    expect(plugin.guard.health.timeouts).toBe(1);
  });
});
