import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPluginConformance } from '@helios/plugins/testing';
// @ts-expect-error: a plain .mjs script without type declarations
import { documentedReference, pluginApiReference } from '../../../docs/plugin-reference.mjs';

const root = resolve(import.meta.dirname, '..', '..', '..');
const guide = readFileSync(join(root, 'docs', 'plugins.md'), 'utf8');

/** The first ```js block after a heading of the guide. */
function example(heading: string): string {
  const section = guide.split(`\n## ${heading}\n`)[1]!;
  return /```js\n([\s\S]*?)```/.exec(section)![1]!;
}

/** A package folder holding a guide example as index.js, as its author would have it. */
function packageOf(name: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'helios-guide-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', helios: { apiVersion: '^1.0.0' } }));
  writeFileSync(join(dir, 'index.js'), source);
  mkdirSync(join(dir, 'node_modules', '@helios'), { recursive: true });
  symlinkSync(join(root, 'plugins'), join(dir, 'node_modules', '@helios', 'plugins'), 'dir');
  return join(dir, 'index.js');
}

describe('docs/plugins.md', () => {
  it('has the plugin API reference generated from the sources (regenerate: node docs/plugin-reference.mjs)', async () => {
    expect(documentedReference()).toBe(await pluginApiReference());
  });

  it('has a detector example that passes the conformance check', async () => {
    const result = await checkPluginConformance(packageOf('guide-detector', example('A detector, step by step')), 'detector', { badOptions: { options: { maxP95: 0 }, key: 'maxP95' } });
    expect(result.outputs.some((d) => (d as { anomalous: boolean }).anomalous)).toBe(true);
  });

  it('has a reporter example that passes the conformance check, delivering to its webhook', async () => {
    const received: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const result = await checkPluginConformance(packageOf('guide-reporter', example('A reporter, step by step')), 'reporter', { options: { url }, badOptions: { options: { url: 'ftp://x' }, key: 'url' } });
      expect(result.outputs).toEqual([{ location: url }]);
      expect(received).toEqual([expect.objectContaining({ service: 'checkout', severity: 'high' })]);
    } finally {
      server.close();
    }
  });
});
