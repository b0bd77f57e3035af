import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { defaultConfig, resolveConfig, silentLogger } from '@helios/core';
import { startHelios } from './app.js';
import { isLoopbackHost, warnWhenOpenWithoutAuth } from './open-listener.js';

const octet = fc.integer({ min: 0, max: 255 });

describe('isLoopbackHost', () => {
  it('holds for 127.0.0.0/8, ::1 (any spelling), IPv4-mapped loopback and localhost', () => {
    fc.assert(fc.property(octet, octet, octet, (a, b, c) => {
      expect(isLoopbackHost(`127.${a}.${b}.${c}`)).toBe(true);
      expect(isLoopbackHost(`::ffff:127.${a}.${b}.${c}`)).toBe(true);
    }));
    for (const host of ['::1', '[::1]', '0:0:0:0:0:0:0:1', 'localhost', 'LocalHost', 'api.localhost']) expect(isLoopbackHost(host)).toBe(true);
  });

  it('does not hold for any other address or name', () => {
    fc.assert(fc.property(octet.filter((a) => a !== 127), octet, octet, octet, (a, b, c, d) => {
      expect(isLoopbackHost(`${a}.${b}.${c}.${d}`)).toBe(false);
      expect(isLoopbackHost(`::ffff:${a}.${b}.${c}.${d}`)).toBe(false);
    }));
    for (const host of ['0.0.0.0', '::', '[::]', '::2', 'example.com', 'localhost.example.com', '']) expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('warning at start when auth is off on an open interface', () => {
  const gateway = (host: string, auth: boolean) => ({ ...defaultConfig().gateway, host, auth: { enabled: auth, keys: auth ? [{ key: 'k'.repeat(16), tenant: 'acme' }] : [] } });

  it('warns, naming gateway.auth.enabled, only when auth is off and the host is not loopback', () => {
    for (const [host, auth, warns] of [['0.0.0.0', false, true], ['10.1.2.3', false, true], ['::', false, true], ['0.0.0.0', true, false], ['127.0.0.1', false, false], ['::1', false, false]] as const) {
      const logger = silentLogger();
      const warn = vi.spyOn(logger, 'warn');
      expect(warnWhenOpenWithoutAuth(gateway(host, auth), logger)).toBe(warns);
      expect(warn).toHaveBeenCalledTimes(warns ? 1 : 0);
      if (warns) {
        expect(warn.mock.calls[0]![0]).toMatchObject({ configKey: 'gateway.auth.enabled', host });
        expect(String(warn.mock.calls[0]![1])).toMatch(/gateway\.auth\.enabled is false .* read every tenant's anomalies and reports/);
      }
    }
  });

  it('is logged by a starting helios whose gateway binds 0.0.0.0 without auth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-open-'));
    const logger = silentLogger();
    const warn = vi.spyOn(logger, 'warn');
    const config = resolveConfig({ dataDir: dir, gateway: { host: '0.0.0.0', port: 0, otlpPort: -1, otlpGrpcPort: -1 }, plugins: { detectors: [], reporters: [] } });
    const app = await startHelios({ config, baseDir: dir, logger });
    try {
      expect(warn.mock.calls.filter(([fields]) => (fields as { configKey?: string }).configKey === 'gateway.auth.enabled')).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });
});
