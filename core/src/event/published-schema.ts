import { jsonSchemas } from './schema.js';

/** The JSON Schema files as published in core/schema/ (stable key order, trailing newline). */
export function publishedSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    files[name] = `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(schema)) }, null, 2)}\n`;
  }
  return files;
}
