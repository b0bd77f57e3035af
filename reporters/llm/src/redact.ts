import { isIPv4, isIPv6 } from 'node:net';

/** One kind of secret or personal data and how to find it. `accept` confirms a candidate match (e.g. Luhn). */
export interface RedactionRule {
  label: string;
  pattern: RegExp;
  accept?: (match: string) => boolean;
}

export interface ExtraPattern {
  pattern: string;
  flags?: string;
  label?: string;
}

/** Luhn checksum: rejects most digit runs that merely look like card numbers (ids, timestamps). */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Built-in rules, most specific first: a bearer token inside `Authorization: Bearer …` is one secret,
 * not an IP plus a token. Order matters because each rule runs on the previous rule's output.
 */
export const BUILT_IN_RULES: readonly RedactionRule[] = [
  { label: 'private-key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g },
  { label: 'bearer', pattern: /\b(?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/g },
  { label: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g },
  // Vendor key shapes: OpenAI/Anthropic (sk-), GitHub (ghp_, gho_, github_pat_), Slack (xox?-), AWS access key ids, Google API keys, Stripe.
  { label: 'api-key', pattern: /\b(?:sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,})\b/g },
  // key=value and "key": "value" where the key names a secret; the key stays, the value goes.
  { label: 'secret', pattern: /\b((?:api[_-]?key|access[_-]?key|secret|token|password|passwd|pwd|auth|credentials?|session[_-]?id)["']?\s*[:=]\s*["']?)([^\s"'&,;]{4,})/gi },
  { label: 'url-credentials', pattern: /(?<=\/\/)[^\s/:@]+:[^\s/@]+(?=@)/g },
  { label: 'email', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  { label: 'card', pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g, accept: (m) => passesLuhn(m.replace(/[ -]/g, '')) },
  { label: 'ipv6', pattern: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?:%[\w.]+)?(?![\w:])/g, accept: (m) => isIPv6(m.replace(/%.*$/, '')) },
  { label: 'ipv4', pattern: /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]|\.\d)/g, accept: isIPv4 },
];

export interface Redactor {
  /** The text with every match replaced by `[REDACTED:<label>]`; counts what it replaced into `counts`. */
  text(value: string, counts?: Map<string, number>): string;
  /** A deep copy of a JSON-like value with every string redacted. */
  value<T>(value: T, counts?: Map<string, number>): T;
}

export function compileExtraPatterns(extra: readonly ExtraPattern[], key: string): RedactionRule[] {
  return extra.map((p, i) => {
    try {
      const flags = p.flags ?? 'g';
      return { label: p.label ?? 'custom', pattern: new RegExp(p.pattern, flags.includes('g') ? flags : `${flags}g`) };
    } catch (err) {
      throw new Error(`${key}[${i}].pattern: not a valid regular expression (${(err as Error).message})`);
    }
  });
}

export function createRedactor(extra: readonly RedactionRule[] = []): Redactor {
  const rules = [...BUILT_IN_RULES, ...extra];
  function text(value: string, counts?: Map<string, number>): string {
    let out = value;
    for (const rule of rules) {
      out = out.replace(rule.pattern, (match: string, ...groups: unknown[]) => {
        if (rule.accept !== undefined && !rule.accept(match)) return match;
        counts?.set(rule.label, (counts.get(rule.label) ?? 0) + 1);
        // The `secret` rule keeps its key (group 1) so the model still sees that a password was there.
        const keep = rule.label === 'secret' && typeof groups[0] === 'string' ? groups[0] : '';
        return `${keep}[REDACTED:${rule.label}]`;
      });
    }
    return out;
  }
  function value<T>(v: T, counts?: Map<string, number>): T {
    if (typeof v === 'string') return text(v, counts) as T;
    if (Array.isArray(v)) return v.map((x) => value(x, counts)) as T;
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = value(x, counts);
      return out as T;
    }
    return v;
  }
  return { text, value };
}
