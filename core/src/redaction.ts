import { isIPv4, isIPv6 } from 'node:net';
import { HeliosError } from './errors.js';

/**
 * The one redaction stage of Helios: every report passes it before it is stored or delivered (and the
 * incident a composer such as the LLM reporter sees passes it before it leaves the process), and the
 * reports API passes what it serves through it again.
 *
 * Secrets are always removed; personal data (emails, phone numbers, IP addresses) unless `pii` is off.
 * Patterns never rely on `\b`: `_` is a word character, so `\bsecret` misses `client_secret`. Key names
 * are matched with explicit character classes and lookarounds instead.
 */

/** One kind of secret or personal data and how to find it. */
export interface RedactionRule {
  /** Shown as `[REDACTED:<label>]` and counted under this name in the audit. */
  label: string;
  /** Always global. */
  pattern: RegExp;
  /** `secret` rules run whatever the config says; `pii` rules only while `pii` is on. */
  class: 'secret' | 'pii';
  /**
   * A cheap test every match needs (a literal, a keyword): lookbehinds make V8 try the full pattern at
   * every position, so rules whose hint fails are skipped without that scan. Not global.
   */
  hint?: RegExp;
  /** Confirms a candidate match (Luhn for card numbers, a real address for IPs). */
  accept?: (match: string) => boolean;
  /** The replacement for an accepted match (default `[REDACTED:<label>]`); keeps key names and quotes. */
  render?: (match: string, groups: ReadonlyArray<string | undefined>) => string;
}

/** A user's own pattern (config `redaction.patterns`). */
export interface RedactionPattern {
  pattern: string;
  flags?: string;
  label?: string;
}

export interface RedactionOptions {
  /** Remove emails, phone numbers and IP addresses too. Default true. */
  pii?: boolean;
  /** Extra regular expressions, removed as `[REDACTED:<label>]` (default label `custom`). */
  patterns?: readonly RedactionPattern[];
}

/** What was replaced, by label. Filled by the replacement itself, so it counts what actually left the text. */
export type RedactionCounts = Map<string, number>;

export interface Redactor {
  /** The text with every match replaced; each replacement counted into `counts`. */
  text(value: string, counts?: RedactionCounts): string;
  /**
   * A deep copy of a JSON-like value with every string redacted. A string under a key that names a
   * secret (`db_password`, `x-api-token`, …) is removed whole, whatever it looks like.
   */
  value<T>(value: T, counts?: RedactionCounts): T;
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
 * A card number: the issuer prefixes and lengths of Visa, Mastercard, Amex, Discover, Diners and JCB, and
 * the Luhn check. The prefix check keeps epoch-ms timestamps (`17…`) and most numeric ids out.
 */
export function isCardNumber(candidate: string): boolean {
  const d = candidate.replace(/[ -]/g, '');
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  const issuer =
    (d[0] === '4' && (n === 13 || n === 16 || n === 19)) ||
    (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) ||
    ((p2 === 34 || p2 === 37) && n === 15) ||
    ((p4 === 6011 || p2 === 65 || (p4 >= 6440 && p4 <= 6499)) && n >= 16 && n <= 19) ||
    ((p2 === 36 || p2 === 38 || (p4 >= 3000 && p4 <= 3059)) && n >= 14 && n <= 19) ||
    (p2 === 35 && n >= 16 && n <= 19);
  return issuer && passesLuhn(d);
}

/** Words that make a key name a secret's: `password`, `db_password`, `clientSecret`, `x-api-token`, `AWS_SECRET_ACCESS_KEY`. */
const SECRET_KEY_WORD = String.raw`(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|authorization|auth|session[_-]?id|cookie|signature)`;
/** A whole key name containing one of those words, any prefix or suffix (`_`, `-`, `.` and camelCase included). */
const SECRET_KEY = new RegExp(String.raw`^[A-Za-z0-9_.-]*${SECRET_KEY_WORD}[A-Za-z0-9_.-]*$`, 'i');
/** True when a key names a secret: its string value is removed whole. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** key=value: the key and separator (group 1) and the value's quotes stay, only the value's body goes. */
function keepKeyAndQuotes(match: string, groups: ReadonlyArray<string | undefined>): string {
  const keyAndSeparator = groups[0] ?? '';
  const rest = match.slice(keyAndSeparator.length);
  const quote = rest.startsWith('\\"') ? '\\"' : rest[0] === '"' || rest[0] === "'" ? rest[0] : '';
  return `${keyAndSeparator}${quote}[REDACTED:secret]${quote}`;
}

/**
 * Built-in rules, most specific first: each rule runs on the previous rule's output, so `Authorization:
 * Bearer <jwt>` is one `authorization` secret and the key=value rule no longer sees a value there.
 */
export const REDACTION_RULES: readonly RedactionRule[] = [
  // PEM private keys, also with the `\n` escapes of a JSON string (GCP service-account files) and cut short.
  { label: 'private-key', class: 'secret', hint: /-----BEGIN /, pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?:[A-Za-z0-9+/=\s]|\\[nr])*)/g },
  // user:password@ of any URL (postgres://, redis://:pw@, https://); the user goes too, it is half the credential.
  { label: 'url-credentials', class: 'secret', hint: /:\/\/[^\s/@]*@/, pattern: /(?<=[A-Za-z][A-Za-z0-9+.-]*:\/\/)(?!\[REDACTED)[^\s/?#@:"'<>]*:[^\s/?#@"'<>]+(?=@)/g },
  { label: 'slack-webhook', class: 'secret', pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g },
  { label: 'authorization', class: 'secret', hint: /[Bb]earer|BEARER|[Bb]asic|BASIC|[Tt]oken|[Dd]igest/, pattern: /(?<![A-Za-z0-9])(?:[Bb]earer|BEARER|[Bb]asic|BASIC|[Tt]oken|[Dd]igest)\s+(?!\[REDACTED)[A-Za-z0-9._~+/=-]{8,}/g },
  { label: 'jwt', class: 'secret', pattern: /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  // An AWS secret access key right after its key id (`AKIA… wJalr…`), before the id itself is replaced.
  { label: 'aws-secret-access-key', class: 'secret', hint: /A(?:KIA|SIA)[A-Z0-9]{16}/, pattern: /(?<=(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}["']?[\s:,;|/=]{1,5}["']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/g },
  { label: 'aws-access-key-id', class: 'secret', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/g },
  { label: 'gcp-api-key', class: 'secret', hint: /AIza/, pattern: /AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { label: 'github-token', class: 'secret', pattern: /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { label: 'slack-token', class: 'secret', pattern: /(?<![A-Za-z0-9])(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,}/g },
  { label: 'stripe-key', class: 'secret', pattern: /(?<![A-Za-z0-9])(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})/g },
  { label: 'api-key', class: 'secret', pattern: /(?<![A-Za-z0-9])sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{20,}/g },
  // key=value, key: value, "key": "value" and escaped \"key\":\"value\" where the key names a secret, any
  // prefix. The key and the quotes stay (the reader sees that a password was there); the value goes.
  {
    label: 'secret', class: 'secret', render: keepKeyAndQuotes, hint: new RegExp(`${SECRET_KEY_WORD}[A-Za-z0-9_.-]{0,64}(?:\\\\?["'])?[ \\t]*[:=]`, 'i'),
    pattern: new RegExp(
      String.raw`((?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{0,64}${SECRET_KEY_WORD}[A-Za-z0-9_.-]{0,64}(?:\\?["'])?[ \t]*[:=][ \t]*)` +
      String.raw`(?:"(?!\[REDACTED)(?:[^"\\\n]|\\.)*"|\\"(?!\[REDACTED)[^"\n]*?\\"|'(?!\[REDACTED)[^'\n]*'|(?!\[REDACTED)(?!\\?["'])[^\s"'\\&,;)}\]]+)`,
      'gi',
    ),
  },
  { label: 'card', class: 'secret', hint: /\d(?:[ -]?\d){12}/, pattern: /(?<![\dA-Za-z+-])\d(?:[ -]?\d){12,18}(?![\dA-Za-z-])/g, accept: isCardNumber },
  { label: 'email', class: 'pii', hint: /@[A-Za-z0-9-]+\./, pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  { label: 'ipv6', class: 'pii', hint: /:[0-9A-Fa-f]{0,4}:/, pattern: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?:%[\w.]+)?(?![\w:])/g, accept: (m) => isIPv6(m.replace(/%.*$/, '')) },
  { label: 'ipv4', class: 'pii', hint: /\d\.\d{1,3}\.\d{1,3}\.\d/, pattern: /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]|\.\d)/g, accept: isIPv4 },
  // E.164 (+4915123456789) or grouped (+1 (415) 555-0134, 030 1234 5678); separators required, so
  // latencies, counts and ids stay.
  { label: 'phone', class: 'pii', hint: /\+[1-9]\d{7}|\d[ .-]\d{3}/, pattern: /(?<![\w.+-])(?:\+[1-9]\d{7,14}(?!\d)|(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .-]\d{3,4}[ .-]\d{3,4}(?![\w.-]))/g },
];

/** Compiles user patterns; a bad one throws HLS_ERR_CONFIG_INVALID naming its key. */
export function compileRedactionPatterns(patterns: readonly RedactionPattern[], key = 'redaction.patterns'): RedactionRule[] {
  return patterns.map((p, i) => {
    try {
      const flags = p.flags ?? 'g';
      return { label: p.label ?? 'custom', class: 'secret' as const, pattern: new RegExp(p.pattern, flags.includes('g') ? flags : `${flags}g`) };
    } catch (err) {
      throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${key}[${i}].pattern: not a valid regular expression (${(err as Error).message})`);
    }
  });
}

export function createRedactor(options: RedactionOptions = {}): Redactor {
  const rules = [...REDACTION_RULES.filter((r) => r.class === 'secret' || options.pii !== false), ...compileRedactionPatterns(options.patterns ?? [])];
  function text(input: string, counts?: RedactionCounts): string {
    let out = input;
    for (const rule of rules) {
      // Most strings match no rule: a cheap scan, no copy.
      if (rule.hint !== undefined) {
        if (!rule.hint.test(out)) continue;
      } else {
        rule.pattern.lastIndex = 0;
        if (!rule.pattern.test(out)) continue;
      }
      rule.pattern.lastIndex = 0;
      out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
        if (rule.accept !== undefined && !rule.accept(match)) return match;
        counts?.set(rule.label, (counts.get(rule.label) ?? 0) + 1);
        if (rule.render === undefined) return `[REDACTED:${rule.label}]`;
        const groups = rest.slice(0, rest.findIndex((x) => typeof x === 'number')) as Array<string | undefined>;
        return rule.render(match, groups);
      });
    }
    return out;
  }
  function value<T>(v: T, counts?: RedactionCounts): T {
    if (typeof v === 'string') return text(v, counts) as T;
    if (Array.isArray(v)) return v.map((x) => value(x, counts)) as T;
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'string' && x !== '' && isSecretKey(k) && !x.startsWith('[REDACTED')) {
          counts?.set('secret', (counts.get('secret') ?? 0) + 1);
          out[k] = '[REDACTED:secret]';
        } else out[k] = value(x, counts);
      }
      return out as T;
    }
    return v;
  }
  return { text, value };
}

/** `3 aws-access-key-id, 1 email`: the audit line's body, largest count first; '' when nothing was removed. */
export function describeRedactions(counts: RedactionCounts): string {
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([label, n]) => `${n} ${label}`).join(', ');
}
