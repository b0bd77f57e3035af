import { HeliosConfigSchema, createRedactor, type HeliosConfig } from '@helios/core';
import type { TSchema } from '@sinclair/typebox';
import type { CommandModule } from './command.js';

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

/**
 * The config as `helios config` prints it: secrets replaced by `[REDACTED:<kind>]` — the database URL's
 * password, gateway API keys, the SASL password, and whatever the secret rules find in plugin options
 * (webhook URLs, `*secret*`/`*token*` keys). Secret rules only: broker addresses and hosts stay readable.
 */
export function redactedConfig(config: HeliosConfig): HeliosConfig {
  const redacted = createRedactor({ pii: false }).value(config);
  // `key` alone is too common a word to be a secret key name everywhere; here it is the API key itself.
  redacted.gateway.auth.keys = redacted.gateway.auth.keys.map((k) => ({ ...k, key: '[REDACTED:api-key]' }));
  return redacted;
}

export const config: CommandModule = {
  options: {
    reference: { type: 'boolean', description: 'Print every key with its type, default and description, as a Markdown table' },
    'show-secrets': { type: 'boolean', description: 'Print secrets (database password, API keys, SASL password, plugin secrets) as they are' },
  },
  async run({ loaded, values, stdout }) {
    if (values['reference'] === true) stdout(`${configReferenceMarkdown()}
`);
    else {
      const shown = values['show-secrets'] === true ? loaded.config : redactedConfig(loaded.config);
      stdout(`${JSON.stringify({ source: loaded.path ?? '(defaults)', config: shown }, null, 2)}
`);
    }
  },
};
