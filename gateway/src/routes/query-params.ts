import { HeliosError } from '@helios/core';

/**
 * Query-string parameters of a read route, declared once per route: the parser refuses an unknown
 * parameter (a typo such as `servce=` must not silently widen a search), a repeated single-valued one,
 * and a bad value, each with HLS_ERR_QUERY_INVALID naming the parameter. The OpenAPI document is
 * written from the same declarations (openapi.ts), so documented and accepted parameters cannot drift.
 */
export type ParamSpec =
  | { kind: 'string'; description: string; multiple?: boolean; maxLength?: number; values?: readonly string[] }
  | { kind: 'integer'; description: string; min: number; max: number }
  | { kind: 'time'; description: string };

export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

export type ParamValue = string | number | string[];

function invalid(name: string, problem: string): HeliosError {
  return new HeliosError('HLS_ERR_QUERY_INVALID', `${name}: ${problem}`, { details: [name] });
}

/**
 * A time: epoch milliseconds, an ISO 8601 instant (`2026-01-01T12:00:00Z`), or a span before `now`
 * (`15m`, `2h`, `7d`, `30s`).
 */
export function parseTime(name: string, text: string, now: number): number {
  const relative = /^(\d{1,9})(s|m|h|d)$/.exec(text);
  if (relative !== null) return now - Number(relative[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d{1,16}$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return t;
  }
  throw invalid(name, `expected epoch milliseconds, an ISO 8601 time or a span like 15m, 2h, 7d; got ${JSON.stringify(text.slice(0, 100))}`);
}

export function parseQueryParams(query: string, specs: ParamSpecs, now: number): Record<string, ParamValue | undefined> {
  const out: Record<string, ParamValue | undefined> = {};
  for (const [name, raw] of new URLSearchParams(query)) {
    // Own keys only: `valueOf`, `constructor` or `__proto__` are unknown parameters, not Object.prototype's.
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) {
      const known = Object.keys(specs);
      throw invalid(name, `unknown parameter; ${known.length === 0 ? 'this route takes none' : `known: ${known.join(', ')}`}`);
    }
    if (spec.kind === 'string' && spec.multiple === true) {
      // `service=a&service=b` and `service=a,b` alike.
      const list = (out[name] as string[] | undefined) ?? [];
      for (const v of raw.split(',')) list.push(checkString(name, spec, v));
      out[name] = list;
      continue;
    }
    if (out[name] !== undefined) throw invalid(name, 'given more than once');
    if (spec.kind === 'string') out[name] = checkString(name, spec, raw);
    else if (spec.kind === 'time') out[name] = parseTime(name, raw, now);
    else {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(n) || n < spec.min || n > spec.max) throw invalid(name, `expected an integer from ${spec.min} to ${spec.max}, got ${JSON.stringify(raw.slice(0, 100))}`);
      out[name] = n;
    }
  }
  return out;
}

function checkString(name: string, spec: Extract<ParamSpec, { kind: 'string' }>, value: string): string {
  if (value === '') throw invalid(name, 'must not be empty');
  const max = spec.maxLength ?? 256;
  if (value.length > max) throw invalid(name, `longer than ${max} characters`);
  if (spec.values !== undefined && !spec.values.includes(value)) throw invalid(name, `expected one of ${spec.values.join(', ')}, got ${JSON.stringify(value.slice(0, 100))}`);
  return value;
}
