import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const SIGNATURE_HEADER = 'x-helios-signature';

/** `t=<unix>,v1=<hex>` for a body sent at `unixSeconds`: the timestamp is signed with the body, so a captured request cannot be replayed later with a new time. */
export function signWebhookBody(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export type SignatureCheck = { valid: true } | { valid: false; reason: 'malformed' | 'expired' | 'mismatch' };

/**
 * What a receiver runs on the raw body (before parsing it): the header's timestamp must be within
 * `toleranceSeconds` of now (default 300) and one of its `v1` signatures must match, compared in constant time.
 */
export function verifyWebhookSignature(secret: string, header: string | undefined, rawBody: string, options: { toleranceSeconds?: number; nowSeconds?: number } = {}): SignatureCheck {
  if (header === undefined) return { valid: false, reason: 'malformed' };
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const signatures = parts.filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => Buffer.from(v!, 'hex'));
  if (t === undefined || !/^\d+$/.test(t) || signatures.length === 0) return { valid: false, reason: 'malformed' };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(t)) > (options.toleranceSeconds ?? 300)) return { valid: false, reason: 'expired' };
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return signatures.some((s) => timingSafeEqual(s, expected)) ? { valid: true } : { valid: false, reason: 'mismatch' };
}
