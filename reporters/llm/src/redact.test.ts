import { describe, expect, it } from 'vitest';
import { createRedactor, passesLuhn } from './redact.js';

const r = createRedactor();

describe('redaction', () => {
  it.each([
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def', 'bearer'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'jwt'],
    ['key sk-proj-abcdefghijklmnop1234', 'api-key'],
    ['slack xoxb-1234567890-abcdefghij', 'api-key'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'api-key'],
    ['password=correct-horse', 'secret'],
    ['{"api_key": "abc123xyz"}', 'secret'],
    ['https://user:pa55word@db.internal/x', 'url-credentials'],
    ['mail jane.doe+ops@mail.example.co.uk now', 'email'],
    ['card 4111-1111-1111-1111', 'card'],
    ['card 378282246310005', 'card'],
    ['from 192.168.1.254:443', 'ipv4'],
    ['from fe80::1%eth0 and', 'ipv6'],
    ['from ::ffff:10.0.0.1 ok', 'ipv6'],
    ['from 2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'ipv6'],
  ])('%s -> [REDACTED:%s]', (input, label) => {
    const counts = new Map<string, number>();
    const out = r.text(input, counts);
    expect(out).toContain(`[REDACTED:${label}]`);
    expect(counts.get(label)).toBe(1);
  });

  it.each([
    'order 1234567890123 shipped', // 13 digits failing Luhn
    'at 12:30:45 the version 1.4.2 and 999.1.1.1 with trace 0af7651916cd43dd8448eb211c80319c',
    'GET /api/items/42 took 5000 ms',
    'db timeout after 30s on shard a:b',
  ])('leaves ordinary text alone: %s', (input) => {
    expect(r.text(input)).toBe(input);
  });

  it('keeps the secret key name so the reader knows what was removed', () => {
    expect(r.text('login failed password: hunter22')).toBe('login failed password: [REDACTED:secret]');
  });

  it('redacts every string of a nested value and leaves numbers', () => {
    const out = r.value({ a: ['x@y.io', 3], b: { c: '10.0.0.1' }, n: null });
    expect(out).toEqual({ a: ['[REDACTED:email]', 3], b: { c: '[REDACTED:ipv4]' }, n: null });
  });

  it('Luhn', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('4111111111111112')).toBe(false);
  });
});
