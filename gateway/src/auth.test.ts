import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeliosError } from '@helios/core';
import { bearerToken, createAuthenticator } from './auth.js';

const headers = (authorization: string, apiKey = '') => ({ 'content-type': '', 'content-encoding': '', authorization, 'x-api-key': apiKey });
/** `bearer` with each letter's case chosen by the generator. */
const anyCaseBearer = fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }).map((upper) => [...'bearer'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
const keyText = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/'), minLength: 8, maxLength: 64 });

describe('API key authentication', () => {
  it('accepts the bearer scheme in any letter case (RFC 9110: schemes are case-insensitive)', () => {
    fc.assert(fc.property(anyCaseBearer, keyText, fc.integer({ min: 1, max: 3 }), (scheme, key, spaces) => {
      const authenticate = createAuthenticator({ enabled: true, keys: [{ key, tenant: 'acme' }, { key: `${key}-other`, tenant: 'globex' }] });
      expect(authenticate(headers(`${scheme}${' '.repeat(spaces)}${key}`))).toBe('acme');
      expect(authenticate(headers(`${scheme} ${key}-other`))).toBe('globex');
    }));
  });

  it('refuses a wrong key, another scheme, or no key with HLS_ERR_UNAUTHORIZED', () => {
    fc.assert(fc.property(anyCaseBearer, keyText, keyText, (scheme, key, guess) => {
      fc.pre(guess !== key);
      const authenticate = createAuthenticator({ enabled: true, keys: [{ key, tenant: 'acme' }] });
      for (const authorization of [`${scheme} ${guess}`, `Basic ${key}`, `${scheme}${key}`, scheme, '']) {
        expect(() => authenticate(headers(authorization))).toThrow(expect.objectContaining({ code: 'HLS_ERR_UNAUTHORIZED' }) as HeliosError);
      }
    }));
  });

  it('reads the token only after "bearer" and a space', () => {
    expect(bearerToken('bEaReR abc')).toBe('abc');
    expect(bearerToken('Bearer   abc  ')).toBe('abc');
    expect(bearerToken('Bearerabc')).toBe('');
    expect(bearerToken('Bearer ')).toBe('');
    expect(bearerToken('Basic abc')).toBe('');
  });

  it('answers every request with tenant `default` when auth is off', () => {
    const authenticate = createAuthenticator({ enabled: false, keys: [{ key: 'secret-key-1', tenant: 'acme' }] });
    expect(authenticate(headers('Bearer secret-key-1'))).toBe('default');
  });
});
