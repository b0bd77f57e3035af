import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference, configReferenceMarkdown } from './config.js';

describe('config reference', () => {
  it('documents every key with a description', () => {
    const rows = configReference();
    expect(rows.map((r) => r.key)).toEqual(expect.arrayContaining(['gateway.port', 'dataDir', 'detection.windowMs', 'plugins.detectors']));
    expect(rows.filter((r) => r.description === '')).toEqual([]);
  });

  it('is the table in the README (regenerate with `npx helios config --reference`)', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    const table = readme.split('<!-- config-reference:start -->\n')[1]?.split('\n<!-- config-reference:end -->')[0];
    expect(table).toBe(configReferenceMarkdown());
  });
});
