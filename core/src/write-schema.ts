#!/usr/bin/env node
// Regenerates core/schema/*.json from the TypeBox definitions: `npm run schema -w @helios/core`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishedSchemaFiles } from './event/published-schema.js';

const dir = join(import.meta.dirname, '..', 'schema');
for (const [name, text] of Object.entries(publishedSchemaFiles())) {
  writeFileSync(join(dir, name), text);
  process.stdout.write(`wrote ${join(dir, name)}\n`);
}
