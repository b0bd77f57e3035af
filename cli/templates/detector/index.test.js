import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadPlugin } from '@helios/plugins';
import { anomalousWindow, checkPluginConformance, configTableMarkdown, createTestHost, markedSection, windowSeries } from '@helios/plugins/testing';
import plugin from './index.js';

const entry = fileURLToPath(new URL('./index.js', import.meta.url));

test('passes the Helios plugin conformance check (load, start, windows, shutdown twice, bad options refused)', async () => {
  const result = await checkPluginConformance(entry, 'detector', { badOptions: { options: { factor: 0.5 }, key: 'factor' } });
  assert.equal(result.name, plugin.name);
  assert.ok(result.outputs.length > 0, 'judged the fixture windows');
});

test('calls a burst of errors anomalous after calm windows, naming error_rate', async () => {
  const { host, close } = await createTestHost();
  try {
    const detector = await loadPlugin({ use: entry }, 'detector', 0, host);
    for (const window of windowSeries(30)) assert.notEqual((await detector.hooks.detect(window))?.anomalous, true);
    const verdict = await detector.hooks.detect(anomalousWindow());
    assert.equal(verdict?.anomalous, true);
    assert.equal(verdict?.explanation[0]?.feature, 'error_rate');
    await detector.shutdown();
  } finally {
    await close();
  }
});

test('README documents every option of the config schema', () => {
  const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  assert.equal(markedSection(readme, 'config'), configTableMarkdown(plugin.configSchema));
});
