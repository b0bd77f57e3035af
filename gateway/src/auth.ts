import { createHash } from 'node:crypto';
import { HeliosError } from '@helios/core';
import type { RequestHeaders } from './http/transport.js';

export interface ApiKeyConfig {
  key: string;
  tenant: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64');

/**
 * The token of `Authorization: Bearer <token>`, '' for any other header. The scheme name is
 * case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER` and `Bearer` are the same scheme.
 */
export function bearerToken(authorization: string): string {
  if (authorization.length < 8 || authorization.charCodeAt(6) !== 0x20 || authorization.slice(0, 6).toLowerCase() !== 'bearer') return '';
  return authorization.slice(7).trim();
}

/**
 * API keys -> tenants. Keys are looked up by their SHA-256, so lookup time does not depend on how
 * much of a guessed key matches, and the process keeps no list of keys to compare byte by byte.
 * Returns the tenant, `default` when auth is off.
 */
export function createAuthenticator(options: { enabled: boolean; keys: readonly ApiKeyConfig[] }): (headers: RequestHeaders) => string {
  const tenants = new Map(options.keys.map((k) => [sha256(k.key), k.tenant]));
  if (!options.enabled) return () => 'default';
  return (headers) => {
    const bearer = bearerToken(headers.authorization);
    const key = bearer !== '' ? bearer : headers['x-api-key'].trim();
    const tenant = key === '' ? undefined : tenants.get(sha256(key));
    if (tenant === undefined) throw new HeliosError('HLS_ERR_UNAUTHORIZED', key === '' ? 'send an API key as "Authorization: Bearer <key>" or "x-api-key: <key>"' : 'API key not recognised');
    return tenant;
  };
}

/**
 * Access to /metrics, which lists every tenant's service names: with metrics.auth `key` (or `auto` while
 * API-key auth is on) only a bearer key of metrics.keys reads it; tenant API keys do not. Returns
 * undefined when /metrics is open, else a check that throws HLS_ERR_UNAUTHORIZED.
 */
export function createMetricsAuthenticator(options: { auth: 'auto' | 'key' | 'none'; keys: readonly string[] }, apiAuthEnabled: boolean): ((headers: Pick<RequestHeaders, 'authorization'>) => void) | undefined {
  const required = options.auth === 'key' || (options.auth === 'auto' && apiAuthEnabled);
  if (!required) return undefined;
  const allowed = new Set(options.keys.map(sha256));
  return (headers) => {
    const bearer = headers.authorization.startsWith('Bearer ') ? headers.authorization.slice(7).trim() : '';
    if (bearer === '') throw new HeliosError('HLS_ERR_UNAUTHORIZED', '/metrics requires a metrics key: send "Authorization: Bearer <key>" with one of metrics.keys');
    if (!allowed.has(sha256(bearer))) throw new HeliosError('HLS_ERR_UNAUTHORIZED', 'metrics key not recognised');
  };
}
