import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkPluginConformance, configTableMarkdown, markedSection, sampleIncident } from '@helios/plugins/testing';
import plugin from './index.js';

const entry = fileURLToPath(new URL('./index.js', import.meta.url));

test('passes the Helios plugin conformance check (load, start, report, shutdown twice, bad options refused)', async () => {
  const result = await checkPluginConformance(entry, 'reporter', { badOptions: { options: { minSeverity: 'urgent' }, key: 'minSeverity' } });
  assert.equal(result.name, plugin.name);
  const file = result.outputs[0].location;
  const line = JSON.parse(readFileSync(file, 'utf8').trim());
  assert.equal(line.service, sampleIncident().anomaly.service);
  assert.equal(line.severity, 'high');
});

test('README documents every option of the config schema', () => {
  const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  assert.equal(markedSection(readme, 'config'), configTableMarkdown(plugin.configSchema));
});

