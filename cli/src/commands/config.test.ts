import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@helios/core';
import { parseCommandLine } from './command.js';
import { configReference, configReferenceMarkdown } from './config.js';
import { COMMANDS, loadCommand } from './index.js';

const config = await loadCommand(COMMANDS.find((c) => c.name === 'config')!);

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

describe('helios config prints no secrets unless --show-secrets', () => {
  const storePassword = 'pg-Pa55word-9f3k';
  const apiKey = 'gw-key-6c1d8e2a9b7f';
  const saslPassword = 'sasl-Secr3t-x7';
  const webhook = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx';
  const pluginSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const secrets = [storePassword, apiKey, saslPassword, webhook, pluginSecret];

  async function printed(args: string[]): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'helios-config-'));
    writeFileSync(join(dir, 'helios.config.yaml'), [
      'gateway:', '  auth:', '    enabled: true', '    keys:', `      - { key: ${apiKey}, tenant: acme }`,
      'bus:', '  kafka:', '    brokers: ["10.1.2.3:9092"]', '    sasl: { mechanism: plain, username: helios }',
      'plugins:', '  reporters:', `    - { use: '@helios/reporter-slack', options: { webhookUrl: '${webhook}' } }`,
      `    - { use: './acme-reporter.js', options: { client_secret: '${pluginSecret}' } }`,
    ].join('\n'));
    const loaded = loadConfig({ cwd: dir, env: { HELIOS_STORE_URL: `postgres://helios:${storePassword}@db.internal:5432/helios`, HELIOS_KAFKA_SASL_PASSWORD: saslPassword } });
    let out = '';
    const { values, positionals } = parseCommandLine(config, args);
    await config.run({ loaded, configSources: {}, values, positionals, json: false, portExplicit: false, stdout: (t) => (out += t) });
    return out;
  }

  it('redacts the store URL password, gateway keys, the SASL password and secrets in plugin options', async () => {
    const out = await printed([]);
    for (const s of secrets) expect(out).not.toContain(s);
    expect(out).toContain('postgres://[REDACTED:url-credentials]@db.internal:5432/helios');
    expect(out).toContain('"key": "[REDACTED:api-key]"');
    // Everything else stays readable: brokers, user names, tenants.
    expect(out).toContain('10.1.2.3:9092');
    expect(out).toContain('"tenant": "acme"');
    expect(out).toContain('"username": "helios"');
  });

  it('prints them as they are with --show-secrets', async () => {
    const out = await printed(['--show-secrets']);
    for (const s of secrets) expect(out).toContain(s);
  });

  it('refuses an unknown flag, naming the command', async () => {
    await expect(printed(['--show-secret'])).rejects.toThrow(/helios config: .*show-secret/);
  });
});
