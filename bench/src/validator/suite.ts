import { Ajv } from 'ajv';
import { EventInputSchema, compileValidator, normalizeEventInput } from '@helios/core';
import { opsPerSecond, type BenchResult } from '../result.js';

/** A typical ~180-byte Helios JSON event, as the gateway receives it (already parsed). */
function sampleEvents(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    service: `svc-${i % 20}`, level: i % 50 === 0 ? 'ERROR' : 'INFO', message: 'GET /api/payments served',
    timestamp: 1_764_000_000_000 + i, endpoint: '/api/payments', latency_ms: 12.5 + (i % 100), status_code: 200,
  }));
}

/**
 * The event validator runs on every event at 50K+/s. Candidates on the same events in the same run:
 * TypeBox's compiled checker (chosen: it is also the source of the TypeScript types and the published
 * JSON Schema) against Ajv compiling the same JSON Schema; plus the whole normalize step (validate,
 * defaults, id) that the gateway actually pays per event.
 */
export async function runValidatorBench(): Promise<BenchResult[]> {
  const events = sampleEvents(1000);
  const typebox = compileValidator(EventInputSchema);
  const ajv = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(JSON.stringify(EventInputSchema)) as object);
  const n = events.length;
  const ajvRate = opsPerSecond((i) => ajv(events[i % n]), 200_000);
  const typeboxRate = opsPerSecond((i) => typebox.check(events[i % n]), 200_000);
  const now = Date.now();
  const normalizeRate = opsPerSecond((i) => normalizeEventInput(events[i % n], { tenant: 'default', now }), 100_000);
  const invalid = { service: 'svc', latency_ms: 'abc', level: 'loud' };
  const errorsRate = opsPerSecond(() => { try { normalizeEventInput(invalid, { tenant: 'default', now }); } catch { /* expected */ } }, 20_000);
  return [
    { name: 'validate event: Ajv (allErrors)', value: ajvRate, unit: 'events/s' },
    { name: 'validate event: TypeBox compiled', value: typeboxRate, unit: 'events/s', baseline: 'validate event: Ajv (allErrors)', baselineValue: ajvRate, ratio: typeboxRate / ajvRate },
    { name: 'normalize event (validate + defaults + UUIDv7)', value: normalizeRate, unit: 'events/s' },
    { name: 'reject invalid event with every error path', value: errorsRate, unit: 'events/s', baseline: 'normalize event (validate + defaults + UUIDv7)', baselineValue: normalizeRate, ratio: errorsRate / normalizeRate },
  ];
}
