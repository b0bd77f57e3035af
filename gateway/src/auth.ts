import { createHash } from 'node:crypto';
import { HeliosError } from '@helios/core';
import type { RequestHeaders } from './http/transport.js';

export interface ApiKeyConfig {
  key: string;
  tenant: string;
  /** Shown as who acknowledged or resolved an incident through the API. */
  name?: string | undefined;
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

/** Who sent a request: the key's tenant, and the key's name (`api-key:<fingerprint>` for unnamed keys). */
export interface KeyIdentity {
  tenant: string;
  keyName: string;
}

/**
 * API keys -> tenants. Keys are looked up by their SHA-256, so lookup time does not depend on how
 * much of a guessed key matches, and the process keeps no list of keys to compare byte by byte.
 * Returns the tenant, `default` when auth is off.
 */
export function createAuthenticator(options: { enabled: boolean; keys: readonly ApiKeyConfig[] }): (headers: RequestHeaders) => string {
  const identify = createKeyIdentifier(options);
  return options.enabled ? (headers) => identify(headers).tenant : () => 'default';
}

/**
 * The tenant and name of the request's key (what the incident API records as who acknowledged or
 * resolved). An unnamed key is named by the first 12 characters of its SHA-256, which identify it to
 * whoever holds the config without revealing it. Auth off: tenant `default`, name `anonymous`.
 */
export function createKeyIdentifier(options: { enabled: boolean; keys: readonly ApiKeyConfig[] }): (headers: RequestHeaders) => KeyIdentity {
  const identities = new Map(options.keys.map((k) => {
    const digest = sha256(k.key);
    return [digest, { tenant: k.tenant, keyName: k.name ?? `api-key:${createHash('sha256').update(k.key).digest('hex').slice(0, 12)}` }];
  }));
  if (!options.enabled) return () => ({ tenant: 'default', keyName: 'anonymous' });
  return (headers) => {
    const bearer = bearerToken(headers.authorization);
    const key = bearer !== '' ? bearer : headers['x-api-key'].trim();
    const identity = key === '' ? undefined : identities.get(sha256(key));
    if (identity === undefined) throw new HeliosError('HLS_ERR_UNAUTHORIZED', key === '' ? 'send an API key as "Authorization: Bearer <key>" or "x-api-key: <key>"' : 'API key not recognised');
    return identity;
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
