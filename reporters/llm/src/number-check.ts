import type { Incident } from '@helios/core';

/** A number as the model wrote it, and where. */
export interface WrittenNumber {
  text: string;
  value: number;
  unit: '%' | 'ms' | 's' | 'x' | '';
  decimals: number;
}

// Times of day, dates and ISO timestamps are not measurements; identifiers (p95, 5xx, a trace id) are not either.
const NOT_MEASUREMENTS = /\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?|\b\d{1,2}:\d{2}(?::\d{2})?\b|\b[pP]\d{2,3}\b|\b\dxx\b|\b[0-9a-f]{16,}\b|\b\w*[a-zA-Z_]\d[\w]*/g;
const NUMBER = /(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(%|ms\b|s\b|x\b)?/g;

/** The numbers in a text, in order, with their units; small counts (0-10) are skipped: they are list numbers, "2 windows", "3 steps". */
export function writtenNumbers(text: string): WrittenNumber[] {
  const out: WrittenNumber[] = [];
  for (const m of text.replace(NOT_MEASUREMENTS, ' ').matchAll(NUMBER)) {
    const value = Number(`${m[1]!.replace(/,/g, '')}${m[2] === undefined ? '' : `.${m[2]}`}`);
    const unit = (m[3] ?? '') as WrittenNumber['unit'];
    if (unit === '' && Number.isInteger(value) && value <= 10) continue;
    out.push({ text: m[0].trim(), value, unit, decimals: m[2]?.length ?? 0 });
  }
  return out;
}

/** Every number in the incident data (the facts the model was given), plus the ratios a report naturally states. */
export function factNumbers(incident: Incident): number[] {
  const numbers: number[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'number' && Number.isFinite(v)) numbers.push(v);
    else if (typeof v === 'string') for (const w of writtenNumbers(v)) numbers.push(w.value);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(incident);
  const { anomaly, context } = incident;
  for (const e of anomaly.explanation) if (e.baseline !== 0) numbers.push(e.value / e.baseline, e.baseline / e.value);
  for (const t of [context.window, context.baseline]) if (t.events > 0) numbers.push(t.errors / t.events);
  for (const e of context.slowestEndpoints) if (e.events > 0) numbers.push(e.errors / e.events);
  if (context.window.events > 0) for (const e of context.topErrors) numbers.push(e.events / context.window.events);
  return numbers;
}

/**
 * Whether a written number is one of the facts, as a person would round or convert it: 35% for 0.3501,
 * 1.4 s for 1400 ms, 17.5x for a ratio, 1,800 for 1800. Tolerance: half a unit of the last digit written,
 * and 1% of the value (a model rounding 614 to "about 610").
 */
export function isFact(n: WrittenNumber, facts: readonly number[]): boolean {
  const tolerance = (v: number) => Math.max(0.5 * 10 ** -n.decimals, Math.abs(v) * 0.01);
  const candidates = (f: number): number[] => {
    switch (n.unit) {
      case '%': return [f * 100, f];
      case 's': return [f / 1000, f];
      case 'ms': return [f, f * 1000];
      default: return [f, f * 100, f / 1000];
    }
  };
  return facts.some((f) => candidates(f).some((c) => Math.abs(c - n.value) <= tolerance(c)));
}

/** The numbers of a text that are not in the facts, each once. */
export function uncheckedNumbers(text: string, facts: readonly number[]): string[] {
  return [...new Set(writtenNumbers(text).filter((n) => !isFact(n, facts)).map((n) => n.text))];
}
