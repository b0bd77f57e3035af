import { createHash } from 'node:crypto';
import { HeliosError } from '@helios/core';
import type { RequestHeaders } from './http/transport.js';

export interface ApiKeyConfig {
  key: string;
  tenant: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64');

/**
 * API keys -> tenants. Keys are looked up by their SHA-256, so lookup time does not depend on how
 * much of a guessed key matches, and the process keeps no list of keys to compare byte by byte.
 * Returns the tenant, `default` when auth is off.
 */
export function createAuthenticator(options: { enabled: boolean; keys: readonly ApiKeyConfig[] }): (headers: RequestHeaders) => string {
  const tenants = new Map(options.keys.map((k) => [sha256(k.key), k.tenant]));
  if (!options.enabled) return () => 'default';
  return (headers) => {
    // The scheme is case-insensitive (RFC 9110); gRPC clients often send `bearer`.
    const authorization = headers.authorization;
    const bearer = authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === 'bearer ' ? authorization.slice(7).trim() : '';
    const key = bearer !== '' ? bearer : headers['x-api-key'].trim();
    const tenant = key === '' ? undefined : tenants.get(sha256(key));
    if (tenant === undefined) throw new HeliosError('HLS_ERR_UNAUTHORIZED', key === '' ? 'send an API key as "Authorization: Bearer <key>" or "x-api-key: <key>"' : 'API key not recognised');
    return tenant;
  };
}
