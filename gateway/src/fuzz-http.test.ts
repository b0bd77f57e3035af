import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, seededRandom } from '@helios/core';
import { startHarness, type Harness } from './harness.fixture.js';


const VALID = [
  { service: 'checkout', level: 'ERROR', message: 'db timeout', metadata: { latency_ms: 5000, error_code: 'DB_TIMEOUT', endpoint: '/api/pay' } },
  { service: 'catalog', kind: 'span', latency_ms: 12.5, status_code: 200, attributes: { region: 'eu', retries: 2, cached: true } },
];
const JSON_TOKENS = ['{', '}', '[', ']', '"', ':', ',', '\\', '\u0000', 'null', 'true', '1e309', '-0', '"\ud800"', '9'.repeat(400), ' ', '\n'];

interface Sent {
  body: Uint8Array | string;
  headers: Record<string, string>;
}

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const kind = random();
    if (kind < 0.3) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8));
    else if (kind < 0.7) out = out.slice(0, at) + JSON_TOKENS[Math.floor(random() * JSON_TOKENS.length)]! + out.slice(at);
    else if (kind < 0.85) out = out.slice(0, at);
    else out = out.slice(0, at) + String.fromCharCode(Math.floor(random() * 0x10000)) + out.slice(at + 1);
  }
  return out;
}

function randomBytes(random: () => number, max: number): Uint8Array {
  const bytes = new Uint8Array(Math.floor(random() * max));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

const json = { 'content-type': 'application/json' };
const ndjson = { 'content-type': 'application/x-ndjson' };
const gzipJson = { 'content-type': 'application/json', 'content-encoding': 'gzip' };

function fuzzCase(random: () => number): Sent {
  const valid = JSON.stringify(random() < 0.5 ? VALID[0] : VALID);
  switch (Math.floor(random() * 7)) {
    case 0:
      return { body: randomBytes(random, 2048), headers: json };
    case 1:
      return { body: mutate(valid, random), headers: json };
    case 2:
      return { body: VALID.map((v) => mutate(JSON.stringify(v), random)).join('\n'), headers: ndjson };
    case 3: {
      // gzip garbage: a gzip header followed by noise, a truncated stream, or valid gzip of noise
      const choice = random();
      if (choice < 0.33) return { body: Uint8Array.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, ...randomBytes(random, 512)]), headers: gzipJson };
      const zipped = gzipSync(choice < 0.66 ? valid : randomBytes(random, 1024));
      return { body: choice < 0.66 ? zipped.subarray(0, Math.floor(random() * zipped.length)) : zipped, headers: gzipJson };
    }
    case 4: {
      const depth = 1 + Math.floor(random() * 20_000);
      return { body: `${'['.repeat(depth)}${']'.repeat(random() < 0.5 ? depth : 0)}`, headers: json };
    }
    case 5: {
      const types = ['text/plain', 'application/xml', 'application/json; charset=latin1', '', 'application/x-ndjson', 'multipart/form-data', 'application/json\t'];
      return { body: mutate(valid, random), headers: { 'content-type': types[Math.floor(random() * types.length)]! } };
    }
    default:
      return { body: gzipSync(mutate(valid, random)), headers: gzipJson };
  }
}

/** Huge numbers of keys, where validation and error reporting must stay bounded. */
function manyKeys(): Sent[] {
  const wide = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  return [
    { body: JSON.stringify(wide(20_000)), headers: json },
    { body: JSON.stringify({ service: 's', metadata: wide(20_000) }), headers: json },
    { body: JSON.stringify({ service: 's', attributes: wide(20_000) }), headers: json },
    { body: JSON.stringify(Array.from({ length: 100 }, () => wide(500))), headers: json },
    { body: gzipSync(JSON.stringify({ service: 's', attributes: wide(50_000) })), headers: gzipJson },
  ];
}

async function expectCoded(res: Response, label: string): Promise<void> {
  const text = await res.text();
  expect([202, 400, 413, 415], `${label}: ${res.status} ${text.slice(0, 200)}`).toContain(res.status);
  if (res.status === 202) return;
  const { error } = JSON.parse(text) as { error: { code: keyof typeof ErrorCodes; details?: string[] } };
  expect(ErrorCodes[error.code]?.status, `${label}: ${text.slice(0, 200)}`).toBe(res.status);
  // Error bodies stay small whatever the request held.
  expect(text.length, label).toBeLessThan(64 * 1024);
}

describe.each(['uws', 'node'] as const)('Helios JSON fuzzed over %s', (transport) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(transport, { maxBodyBytes: 8 * 1024 * 1024, maxInflatedBytes: 16 * 1024 * 1024, maxEventsPerRequest: 1000 });
  });
  afterAll(() => h.gateway.stop());

  it('answers random, mutated and gzip-garbage bodies with 202 or a coded 4xx, and keeps serving', async () => {
    const random = seededRandom(transport === 'uws' ? 7 : 11);
    const statuses = new Map<number, number>();
    for (let round = 0; round < 25; round++) {
      // 16 at a time: concurrency on one process, as real clients send.
      await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const sent = fuzzCase(random);
          const res = await fetch(`${h.url}/api/v1/events`, { method: 'POST', headers: sent.headers, body: sent.body });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          await expectCoded(res, `case ${round * 16 + i}`);
        }),
      );
    }
    expect(statuses.get(400)).toBeGreaterThan(50);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  });

  it('keeps validation bounded for bodies with huge numbers of keys', async () => {
    for (const [i, sent] of manyKeys().entries()) {
      const res = await fetch(`${h.url}/api/v1/events`, { method: 'POST', headers: sent.headers, body: sent.body });
      await expectCoded(res, `wide body ${i}`);
    }
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  });
});
