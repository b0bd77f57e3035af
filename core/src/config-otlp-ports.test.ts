import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from './config.js';
import { HeliosError } from './errors.js';

describe('OTLP port settings', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'helios-otlp-ports-'));

  it('defaults to 4318 (OTLP/HTTP) and 4317 (OTLP/gRPC)', () => {
    expect(defaultConfig().gateway).toMatchObject({ otlpPort: 4318, otlpGrpcPort: 4317 });
  });

  it('takes HELIOS_OTLP_PORT and HELIOS_OTLP_GRPC_PORT, and a flag over either', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 65535 }), fc.integer({ min: -1, max: 65535 }), fc.option(fc.integer({ min: -1, max: 65535 }), { nil: undefined }), (http, grpc, flag) => {
        const env = { HELIOS_OTLP_PORT: String(http), HELIOS_OTLP_GRPC_PORT: String(grpc) };
        const { config } = loadConfig({ cwd, env, overrides: flag === undefined ? {} : { otlpGrpcPort: flag } });
        expect(config.gateway.otlpPort).toBe(http);
        expect(config.gateway.otlpGrpcPort).toBe(flag ?? grpc);
      }),
      { numRuns: 50 },
    );
  });

  it('names the variable and the key of a bad value', () => {
    expect(() => loadConfig({ cwd, env: { HELIOS_OTLP_GRPC_PORT: 'grpc' } })).toThrow(/HELIOS_OTLP_GRPC_PORT: expected an integer/);
    const err = (() => {
      try {
        loadConfig({ cwd, env: { HELIOS_OTLP_GRPC_PORT: '70000' } });
      } catch (e) {
        return e as HeliosError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('HLS_ERR_CONFIG_INVALID');
    expect(err?.message).toMatch(/otlpGrpcPort/);
  });
});
