import { readdirSync, existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPluginConformance } from './testing/index.js';

/**
 * Every plugin package in the repo (detectors/*, reporters/*) passes the same contract; a new plugin
 * folder is picked up without touching this file. Plugins needing options for the check declare them in
 * package.json under "helios": { "conformance": { "options": ..., "badOptions": { "options": ..., "key": ... } } }.
 */
const root = resolve(import.meta.dirname, '..', '..');
const plugins = (['detectors', 'reporters'] as const).flatMap((folder) =>
  readdirSync(join(root, folder), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, folder, d.name, 'package.json')))
    .map((d) => {
      const pkg = JSON.parse(readFileSync(join(root, folder, d.name, 'package.json'), 'utf8')) as { name: string; helios?: { conformance?: Record<string, unknown> } };
      return { name: pkg.name, kind: folder === 'detectors' ? ('detector' as const) : ('reporter' as const), conformance: pkg.helios?.conformance ?? {} };
    }),
);

describe('plugin conformance', () => {
  it('finds the repo plugins', () => {
    expect(plugins.map((p) => p.name)).toEqual(expect.arrayContaining(['@helios/detector-isolation-forest', '@helios/reporter-template', '@helios/reporter-file']));
  });

  it.each(plugins)('$name: load -> start -> event -> shutdown (twice)', async ({ name, kind, conformance }) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'helios-conformance-'));
    const result = await checkPluginConformance(name, kind, { ...conformance, host: { baseDir: root, dataDir } });
    expect(result.name).toBe(name);
    expect(result.outputs.length).toBeGreaterThan(0);
  });
});
