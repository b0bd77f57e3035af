import type { HeliosEvent } from '@helios/core';

/** Column order of the COPY text rows below; equal to helios_events' column order. */
export const EVENT_COPY_COLUMNS = 'id, ts, tenant, service, level, kind, message, endpoint, latency_ms, status_code, error_code, trace_id, span_id, attributes, resource, sample_rate';

const SPECIAL = /[\\\n\r\t\u0000]/;

// COPY text format: backslash escapes for the delimiter (tab), row end and backslash itself; \N is NULL.
function text(value: string): string {
  if (!SPECIAL.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\u0000/g, '\ufffd');
}

/** JSON text with every \u0000 escape (not an escaped backslash followed by "u0000") turned into \ufffd. */
function withoutNulEscapes(json: string): string {
  return json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : json;
}

function nullable(value: string | null): string {
  return value === null ? '\\N' : text(value);
}

function numberOrNull(value: number | null): string {
  return value === null ? '\\N' : String(value);
}

/** Events as one COPY ... FROM STDIN (FORMAT text) payload, one line per event. */
export function eventsToCopyText(events: readonly HeliosEvent[]): string {
  let out = '';
  for (const e of events) {
    out += `${e.id}\t${new Date(e.timestamp).toISOString()}\t${text(e.tenant)}\t${text(e.service)}\t${e.level}\t${e.kind}\t${text(e.message)}\t${nullable(e.endpoint)}\t${numberOrNull(e.latency_ms)}\t${numberOrNull(e.status_code)}\t${nullable(e.error_code)}\t${nullable(e.trace_id)}\t${nullable(e.span_id)}\t${text(withoutNulEscapes(JSON.stringify(e.attributes)))}\t${text(withoutNulEscapes(JSON.stringify(e.resource)))}\t${e.sample_rate ?? 1}\n`;
  }
  return out;
}
