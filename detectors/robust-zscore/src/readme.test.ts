import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown, markedSection } from '@helios/plugins/testing';
import { configSchema } from './index.js';

describe('README', () => {
  it('documents every option of the config schema (the table is generated from it)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(markedSection(readme, 'config')).toBe(configTableMarkdown(configSchema));
  });
});
