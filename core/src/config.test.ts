import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, resolveConfig } from './config.js';
import { HeliosError } from './errors.js';

function configError(fn: () => unknown): HeliosError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HeliosError);
    return err as HeliosError;
  }
  throw new Error('expected a config error');
}

describe('config', () => {
  it('has documented defaults', () => {
    const c = defaultConfig();
    expect(c.gateway.port).toBe(8080);
    expect(c.dataDir).toBe('./.helios');
    expect(c.bus.kind).toBe('memory');
    expect(c.store.kind).toBe('pglite');
    expect(c.plugins.detectors.map((p) => p.use)).toEqual(['@helios/detector-isolation-forest']);
    expect(c.plugins.reporters.map((p) => p.use)).toEqual(['@helios/reporter-template', '@helios/reporter-file']);
  });

  it('rejects unknown keys naming the key and the allowed ones, and bad values naming the key', () => {
    const unknown = configError(() => resolveConfig({ gateway: { prot: 1 } }));
    expect(unknown.code).toBe('HLS_ERR_CONFIG_INVALID');
    expect(unknown.details[0]).toMatch(/^gateway\.prot: unknown field \(allowed: host, port, /);
    const bad = configError(() => resolveConfig({ gateway: { port: 'eighty' } }));
    expect(bad.details[0]).toBe('gateway.port: expected integer, got "eighty"');
  });

  it('layers flags over environment over file over defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-config-'));
    writeFileSync(join(dir, 'helios.config.yaml'), 'gateway:\n  port: 9000\n  maxEventsPerRequest: 7\ndataDir: ./state\n');
    const fromFile = loadConfig({ cwd: dir, env: {} });
    expect(fromFile.config.gateway.port).toBe(9000);
    expect(fromFile.config.gateway.maxEventsPerRequest).toBe(7);
    expect(fromFile.config.dataDir).toBe(join(dir, 'state'));
    expect(loadConfig({ cwd: dir, env: { HELIOS_PORT: '9100' } }).config.gateway.port).toBe(9100);
    expect(loadConfig({ cwd: dir, env: { HELIOS_PORT: '9100' }, overrides: { port: 9200 } }).config.gateway.port).toBe(9200);
    expect(loadConfig({ cwd: dir, env: { HELIOS_DATA_DIR: 'elsewhere' } }).config.dataDir).toBe(join(dir, 'elsewhere'));
    expect(configError(() => loadConfig({ cwd: dir, env: { HELIOS_PORT: 'x' } })).message).toBe('HELIOS_PORT: expected an integer, got "x"');
    expect(loadConfig({ cwd: dir, env: { HELIOS_STORE_URL: 'postgres://h@db/helios' } }).config.store).toMatchObject({ kind: 'postgres', url: 'postgres://h@db/helios' });
  });

  it('reads JSON configs named by HELIOS_CONFIG and reports a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-config-'));
    writeFileSync(join(dir, 'custom.json'), JSON.stringify({ detection: { windowMs: 120000, hopMs: 60000 } }));
    expect(loadConfig({ cwd: dir, env: { HELIOS_CONFIG: 'custom.json' } }).config.detection.windowMs).toBe(120000);
    expect(configError(() => loadConfig({ cwd: dir, env: { HELIOS_CONFIG: 'missing.yaml' } })).code).toBe('HLS_ERR_CONFIG_NOT_FOUND');
  });
  it('accepts the old gateway.maxInflatingBytes as maxInFlightBodyBytes, the new name winning when both are given', () => {
    expect(resolveConfig({ gateway: { maxInflatingBytes: 123_456 } }).gateway.maxInFlightBodyBytes).toBe(123_456);
    expect(resolveConfig({ gateway: { maxInflatingBytes: 123_456, maxInFlightBodyBytes: 654_321 } }).gateway.maxInFlightBodyBytes).toBe(654_321);
    expect('maxInflatingBytes' in resolveConfig({ gateway: { maxInflatingBytes: 123_456 } }).gateway).toBe(false);
  });

  it('defaults /metrics to a metrics key when API-key auth is on (auto), with bounded service labels', () => {
    const { metrics } = defaultConfig();
    expect(metrics).toEqual({ auth: 'auto', keys: [], maxServicesPerTenant: 1000, seriesIdleMs: 900_000 });
    expect(() => resolveConfig({ metrics: { keys: ['short'] } })).toThrow(HeliosError);
  });
});

describe('config redaction', () => {
  it('defaults: personal data removed, no extra patterns', () => {
    expect(defaultConfig().redaction).toEqual({ pii: true, patterns: [] });
  });

  it('refuses a pattern that is not a regular expression at start, naming its key', () => {
    const err = configError(() => resolveConfig({ redaction: { patterns: [{ pattern: 'ok' }, { pattern: '([' }] } }));
    expect(err.code).toBe('HLS_ERR_CONFIG_INVALID');
    expect(err.message).toMatch(/redaction\.patterns\[1\]\.pattern/);
    expect(configError(() => resolveConfig({ redaction: { secrets: false } })).message).toMatch(/redaction\.secrets: unknown field \(allowed: pii, patterns\)/);
  });
});
