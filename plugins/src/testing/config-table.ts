import { readFileSync } from 'node:fs';
import type { TSchema } from '@sinclair/typebox';

export interface ConfigRow {
  key: string;
  type: string;
  default: string;
  description: string;
}

function typeOf(schema: TSchema): string {
  const union = (schema['anyOf'] ?? schema['oneOf']) as TSchema[] | undefined;
  if (Array.isArray(union)) return union.map((s) => ('const' in s ? `\`${JSON.stringify(s['const'])}\`` : typeOf(s))).join(' \\| ');
  if ('const' in schema) return `\`${JSON.stringify(schema['const'])}\``;
  if (Array.isArray(schema['enum'])) return (schema['enum'] as unknown[]).map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (schema['type'] === 'array') return `${typeOf((schema['items'] ?? {}) as TSchema)}[]`;
  return String(schema['type'] ?? 'any');
}

/** Every leaf option of a plugin's config schema (TypeBox or plain JSON Schema), in schema order; nested objects as `a.b`. */
export function configRows(schema: TSchema | undefined, prefix = ''): ConfigRow[] {
  const rows: ConfigRow[] = [];
  for (const [key, child] of Object.entries((schema?.['properties'] ?? {}) as Record<string, TSchema>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (child['type'] === 'object' && child['properties'] !== undefined) rows.push(...configRows(child, path));
    else rows.push({ key: path, type: typeOf(child), default: child['default'] === undefined ? '' : JSON.stringify(child['default']), description: String(child['description'] ?? '') });
  }
  return rows;
}

/**
 * The Markdown table a plugin's README shows for its options. A plugin's test compares it with the README
 * so the documented options never drift from the schema that validates them.
 */
export function configTableMarkdown(schema: TSchema | undefined): string {
  // `<dir>` outside a code span would be read as an HTML tag and vanish.
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ').split('`').map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;'))).join('`');
  const rows = configRows(schema);
  if (rows.length === 0) return '_This plugin takes no options._';
  return ['| option | type | default | description |', '|---|---|---|---|', ...rows.map((r) => `| \`${r.key}\` | ${r.type} | ${r.default === '' ? '' : `\`${esc(r.default)}\``} | ${esc(r.description)} |`)].join('\n');
}

/** The text between `<!-- <marker>:start -->` and `<!-- <marker>:end -->` in a document, trimmed; undefined without the markers. */
export function markedSection(document: string, marker: string): string | undefined {
  const start = document.indexOf(`<!-- ${marker}:start -->`);
  const end = document.indexOf(`<!-- ${marker}:end -->`);
  if (start < 0 || end < start) return undefined;
  return document.slice(start + `<!-- ${marker}:start -->`.length, end).trim();
}

/** The options section of a plugin's README (`<!-- options:start -->` … `<!-- options:end -->`): what its test compares with `configTableMarkdown`. */
export function readmeOptionsSection(readme: URL): string | undefined {
  return markedSection(readFileSync(readme, 'utf8'), 'options');
}
