import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { publishedSchemaFiles } from './published-schema.js';
import { normalizeEventInput } from './validate.js';

const dir = join(import.meta.dirname, '..', '..', 'schema');

describe('published JSON Schema', () => {
  it('is in step with the TypeBox definitions (regenerate with `npm run schema -w @helios/core`)', () => {
    for (const [name, text] of Object.entries(publishedSchemaFiles())) expect(readFileSync(join(dir, name), 'utf8'), name).toBe(text);
  });

  it('accepts every normalized event and agrees with the gateway on inputs', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const input = ajv.compile(JSON.parse(readFileSync(join(dir, 'event-input.v1.json'), 'utf8')) as object);
    const event = ajv.compile(JSON.parse(readFileSync(join(dir, 'event.v1.json'), 'utf8')) as object);
    const good = { service: 'pay', level: 'ERROR', timestamp: '2026-01-01T00:00:00Z', metadata: { latency_ms: 3, region: 'eu' }, trace_id: 'ab'.repeat(16) };
    expect(input(good)).toBe(true);
    expect(event(normalizeEventInput(good, { tenant: 't', now: 0 }))).toBe(true);
    expect(input({ service: 'pay', metadata: { latency_ms: 'abc' } })).toBe(false);
    expect(input({ servce: 'x' })).toBe(false);
  });
});
