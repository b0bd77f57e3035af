import { HeliosConfigSchema } from '@helios/core';
import type { TSchema } from '@sinclair/typebox';
import type { Command } from './command.js';

interface ReferenceRow {
  key: string;
  type: string;
  default: string;
  description: string;
}

function typeOf(schema: TSchema): string {
  if (Array.isArray(schema['anyOf'])) return (schema['anyOf'] as TSchema[]).map((s) => ('const' in s ? `\`${String(s['const'])}\`` : typeOf(s))).join(' \\| ');
  if (schema['type'] === 'array') return `${typeOf(schema['items'] as TSchema)}[]`;
  return String(schema['type'] ?? 'any');
}

/** Every leaf key of the config schema with its type, default and description, in schema order. */
export function configReference(schema: TSchema = HeliosConfigSchema, prefix = ''): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  for (const [key, child] of Object.entries((schema['properties'] ?? {}) as Record<string, TSchema>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (child['type'] === 'object' && child['properties'] !== undefined) rows.push(...configReference(child, path));
    else rows.push({ key: path, type: typeOf(child), default: child['default'] === undefined ? '' : JSON.stringify(child['default']), description: String(child['description'] ?? '') });
  }
  return rows;
}

export function configReferenceMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return ['| key | type | default | description |', '|---|---|---|---|', ...configReference().map((r) => `| \`${r.key}\` | ${r.type} | ${r.default === '' ? '' : `\`${esc(r.default)}\``} | ${esc(r.description)} |`)].join('\n');
}

export const config: Command = {
  name: 'config',
  summary: 'Print the effective configuration (--reference: every key with its default, as Markdown)',
  options: { reference: { type: 'boolean', description: 'Print every key with its type, default and description, as a Markdown table' } },
  async run({ loaded, values, stdout }) {
    if (values['reference'] === true) stdout(`${configReferenceMarkdown()}\n`);
    else stdout(`${JSON.stringify({ source: loaded.path ?? '(defaults)', config: loaded.config }, null, 2)}\n`);
  },
};
