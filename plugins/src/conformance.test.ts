import { readdirSync, existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Detection } from '@helios/core';
import { checkPluginConformance } from './testing/index.js';

/**
 * Every plugin package in the repo (detectors/*, reporters/*) passes the same contract; a new plugin
 * folder is picked up without touching this file. Plugins needing options for the check declare them in
 * package.json under "helios": { "conformance": { "options": ..., "badOptions": { "options": ..., "key": ... } } }.
 * A plugin that delivers somewhere (a webhook, a bucket) names a module there as "server": its `start()` brings up
 * a local stand-in speaking the real protocol and returns `{ options, close }`; the options are merged in.
 */
const root = resolve(import.meta.dirname, '..', '..');

interface ConformanceEntry {
  options?: Record<string, unknown>;
  badOptions?: { options: unknown; key: string };
  server?: string;
}

interface StandIn {
  options: Record<string, unknown>;
  close(): Promise<void>;
}
const plugins = (['detectors', 'reporters'] as const).flatMap((folder) =>
  readdirSync(join(root, folder), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, folder, d.name, 'package.json')))
    .map((d) => {
      const dir = join(root, folder, d.name);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; helios?: { conformance?: ConformanceEntry } };
      return { name: pkg.name, dir, kind: folder === 'detectors' ? ('detector' as const) : ('reporter' as const), conformance: pkg.helios?.conformance ?? {} };
    }),
);

describe('plugin conformance', () => {
  it('finds the repo plugins', () => {
    expect(plugins.map((p) => p.name)).toEqual(expect.arrayContaining(['@helios/detector-isolation-forest', '@helios/reporter-template', '@helios/reporter-file']));
  });

  it.each(plugins)('$name: load -> start -> event -> shutdown (twice)', async ({ name, dir, kind, conformance }) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'helios-conformance-'));
    const { server, ...check } = conformance;
    const standIn = server === undefined ? undefined : await ((await import(pathToFileURL(join(dir, server)).href)) as { start(): Promise<StandIn> }).start();
    try {
      const options = standIn === undefined ? check.options : { ...check.options, ...standIn.options };
      const result = await checkPluginConformance(name, kind, { ...check, ...(options === undefined ? {} : { options }), host: { baseDir: root, dataDir } });
      expect(result.name).toBe(name);
      expect(result.outputs.length).toBeGreaterThan(0);
      if (kind === 'detector') {
        // Every repo detector judges metric series too, and calls the fixture's level shift (x3 in its last window).
        const metricVerdicts = result.outputs.filter((o) => (o as Detection).explanation.some((e) => e.feature === 'mean'));
        expect(metricVerdicts.length).toBeGreaterThan(0);
        expect((metricVerdicts.at(-1) as Detection).anomalous).toBe(true);
        expect(metricVerdicts.slice(0, -1).filter((o) => (o as Detection).anomalous)).toEqual([]);
      }
    } finally {
      await standIn?.close();
    }
  });
});
