import fc from 'fast-check';

/**
 * A generated corpus of real secret and personal-data formats, for tests that assert none survives a
 * stage. Each sample is the text it appears in (a log line, a header, JSON) and the parts that must not
 * come out the other side. Secret bodies are long random strings of the right alphabet, so "does the
 * output contain it" cannot be true by accident.
 */
export interface SecretSample {
  kind: string;
  /** Where the secret appears, e.g. `connect failed: postgres://app:<pw>@db:5432/x`. */
  text: string;
  /** Substrings that must be gone after redaction. */
  secrets: string[];
  /** Personal data rather than a secret: only removed while `redaction.pii` is on. */
  pii?: boolean;
}

const chars = (alphabet: string, min: number, max = min) => fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64 = `${ALNUM}+/`;
const BASE64URL = `${ALNUM}_-`;
const HEX = '0123456789abcdef';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
/** Password characters a URL or a key=value line carries without quoting. */
const PASSWORD = `${ALNUM}._~!$*+=%^-`;

/** A random body that is surely distinct: at least one digit, one letter, and long enough. */
const body = (alphabet: string, min: number, max = min) => chars(alphabet, min, max).filter((s) => /[0-9]/.test(s) && /[A-Za-z]/.test(s));

const sentence = fc.constantFrom('request failed:', 'upstream said', 'retrying with', 'config dump', 'ERROR', 'debug:', '');
const inLine = (kind: string, secretArb: fc.Arbitrary<string>, render: (s: string) => string = (s) => s, pii = false): fc.Arbitrary<SecretSample> =>
  fc.tuple(sentence, secretArb).map(([lead, s]) => ({ kind, text: `${lead} ${render(s)} end`.trim(), secrets: [s], ...(pii ? { pii } : {}) }));

/** A key name that names a secret, with any prefix and suffix: `db_password`, `X-Api-Token`, `aws_secret_access_key`, `clientSecretValue`. */
export const secretKeyName = fc
  .tuple(
    fc.option(fc.tuple(chars(LOWER, 1, 8), fc.constantFrom('_', '-', '.')), { nil: undefined }),
    fc.constantFrom('password', 'passwd', 'pwd', 'secret', 'token', 'api_key', 'apikey', 'api-key', 'access_key', 'private_key', 'client_secret', 'secret_access_key', 'auth_token', 'credentials', 'session_id', 'PASSWORD', 'Secret', 'Token'),
    fc.option(fc.tuple(fc.constantFrom('_', '-'), chars(LOWER, 1, 6)), { nil: undefined }),
  )
  .map(([pre, word, post]) => `${pre === undefined ? '' : pre.join('')}${word}${post === undefined ? '' : post.join('')}`);

function luhnComplete(partial: string): string {
  for (let d = 0; d <= 9; d++) {
    const digits = partial + d;
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let v = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    if (sum % 10 === 0) return digits;
  }
  throw new Error('unreachable');
}

const cardNumber = fc
  .tuple(fc.constantFrom(['4', 16], ['4', 13], ['51', 16], ['55', 16], ['2221', 16], ['34', 15], ['37', 15], ['6011', 16], ['65', 16], ['36', 14], ['35', 16]), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 19, maxLength: 19 }), fc.constantFrom('', ' ', '-'))
  .map(([[prefix, length], digits, sep]) => {
    const full = luhnComplete(prefix + digits.join('').slice(0, length - prefix.length - 1));
    return sep === '' ? full : full.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
  });

const base64url = (s: string) => Buffer.from(s).toString('base64url');
const jwt = fc
  .tuple(fc.constantFrom('HS256', 'RS256', 'ES256'), chars(LOWER, 4, 12), fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), body(BASE64URL, 32, 86))
  .map(([alg, sub, exp, sig]) => `${base64url(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url(JSON.stringify({ sub, exp }))}.${sig}`);

const pemBlock = fc
  .tuple(fc.constantFrom('RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'), fc.array(body(BASE64, 64), { minLength: 2, maxLength: 5 }), body(BASE64, 12, 40))
  .map(([type, lines, last]) => ({ type, lines: [...lines, `${last}==`] }));

/** Every secret format the redaction stage must remove. */
export const secretSample: fc.Arbitrary<SecretSample> = fc.oneof(
  inLine('aws-access-key-id', fc.tuple(fc.constantFrom('AKIA', 'ASIA'), chars(UPPER_DIGITS, 16)).map(([p, s]) => p + s)),
  fc.tuple(fc.constantFrom('AKIA', 'ASIA'), chars(UPPER_DIGITS, 16), body(BASE64, 40)).map(([p, id, secret]) => ({ kind: 'aws-key-pair', text: `using ${p}${id} ${secret} for s3`, secrets: [p + id, secret] })),
  fc.tuple(fc.constantFrom('aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY', 'SecretAccessKey'), fc.constantFrom('=', ': ', ' = '), body(BASE64, 40)).map(([k, sep, s]) => ({ kind: 'aws-secret-access-key', text: `${k}${sep}${s}`, secrets: [s] })),
  inLine('gcp-api-key', body(BASE64URL, 35).map((s) => `AIza${s}`)),
  fc.tuple(body(HEX, 40), pemBlock, chars(LOWER, 4, 10)).map(([keyId, pem, project]) => ({
    kind: 'gcp-service-account',
    // As it appears when a service-account file lands in an error message: JSON with \n escapes.
    text: `bad credentials ${JSON.stringify({ type: 'service_account', project_id: project, private_key_id: keyId, private_key: `-----BEGIN ${pem.type}-----\n${pem.lines.join('\n')}\n-----END ${pem.type}-----\n` })}`,
    secrets: [keyId, ...pem.lines],
  })),
  fc.tuple(pemBlock, sentence).map(([pem, lead]) => ({ kind: 'pem', text: `${lead}\n-----BEGIN ${pem.type}-----\n${pem.lines.join('\n')}\n-----END ${pem.type}-----\nafter`, secrets: pem.lines })),
  inLine('github-token', fc.tuple(fc.constantFrom('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'), body(ALNUM, 36)).map(([p, s]) => p + s)),
  inLine('github-pat', fc.tuple(body(ALNUM, 22), body(ALNUM, 59)).map(([a, b]) => `github_pat_${a}_${b}`)),
  inLine('slack-token', fc.tuple(fc.constantFrom('xoxb', 'xoxp', 'xoxa', 'xoxr', 'xoxs'), chars('0123456789', 10, 13), chars('0123456789', 10, 13), body(ALNUM, 24)).map(([p, a, b, c]) => `${p}-${a}-${b}-${c}`)),
  inLine('slack-webhook', fc.tuple(chars(UPPER_DIGITS, 8, 10), chars(UPPER_DIGITS, 8, 10), body(ALNUM, 24)).map(([t, b, s]) => `https://hooks.slack.com/services/T${t}/B${b}/${s}`)),
  inLine('stripe-key', fc.tuple(fc.constantFrom('sk_live_', 'rk_live_', 'pk_live_', 'sk_test_'), body(ALNUM, 24, 99)).map(([p, s]) => p + s)),
  inLine('jwt', jwt),
  fc.tuple(fc.constantFrom('Authorization: Bearer ', 'authorization: bearer ', 'Authorization: Token '), body(`${ALNUM}._~+/-`, 20, 60)).map(([h, t]) => ({ kind: 'authorization', text: `${h}${t}`, secrets: [t] })),
  fc.tuple(chars(LOWER, 3, 10), body(PASSWORD, 12, 30)).map(([user, pw]) => ({ kind: 'basic-auth', text: `Authorization: Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`, secrets: [Buffer.from(`${user}:${pw}`).toString('base64')] })),
  fc.tuple(fc.constantFrom('postgres', 'postgresql', 'mysql', 'redis', 'amqp', 'mongodb+srv', 'https'), chars(LOWER, 3, 10), body(PASSWORD, 12, 30), fc.constantFrom('db.internal', '10.0.0.5', 'cache:6379'))
    .map(([scheme, user, pw, host]) => ({ kind: 'url-credentials', text: `connect ${scheme}://${user}:${pw}@${host}/app timed out`, secrets: [`${user}:${pw}`, pw] })),
  fc.tuple(secretKeyName, fc.constantFrom('=', ': ', ' = ', ':'), body(PASSWORD, 12, 40)).map(([k, sep, v]) => ({ kind: 'key-value', text: `login with ${k}${sep}${v} failed`, secrets: [v] })),
  // JSON "key": "value", values with spaces and quotes included (escaped by JSON).
  fc.tuple(secretKeyName, body(`${PASSWORD} "'&,;`, 12, 40)).filter(([, v]) => /[A-Za-z0-9]{6}/.test(v)).map(([k, v]) => ({ kind: 'json', text: `payload ${JSON.stringify({ user: 'svc', [k]: v })}`, secrets: [JSON.stringify(v).slice(1, -1)] })),
  // The same JSON once more escaped: a JSON document quoted inside another one.
  fc.tuple(secretKeyName, body(PASSWORD, 12, 40)).map(([k, v]) => ({ kind: 'json-in-json', text: `body=${JSON.stringify(JSON.stringify({ [k]: v, n: 1 }))}`, secrets: [v] })),
  inLine('card', cardNumber),
  inLine('email', fc.tuple(body(`${LOWER}0123456789._+`, 6, 16).filter((s) => /^[a-z0-9]/.test(s)), chars(LOWER, 3, 10), fc.constantFrom('com', 'io', 'co.uk', 'de')).map(([u, d, tld]) => `${u}@${d}.${tld}`), (s) => s, true),
  inLine('phone', fc.oneof(
    fc.tuple(fc.constantFrom('+1', '+44', '+49', '+33'), chars('0123456789', 9, 11)).map(([cc, n]) => `${cc}${n.replace(/^0/, '5')}`),
    fc.tuple(chars('23456789', 3), chars('0123456789', 3), chars('0123456789', 4)).map(([a, b, c]) => `+1 (${a}) ${b}-${c}`),
    fc.tuple(chars('23456789', 3), chars('0123456789', 3), chars('0123456789', 4)).map(([a, b, c]) => `${a}-${b}-${c}`),
  ), (s) => s, true),
  inLine('ipv4', fc.tuple(fc.integer({ min: 11, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })).map((p) => p.join('.')), (s) => `from ${s}:443`, true),
);

/** Text that must come out unchanged: ids, trace ids, latencies, timestamps, versions, routes. */
export const ordinaryText: fc.Arbitrary<string> = fc.oneof(
  fc.uuid().map((u) => `request ${u} done`),
  chars(HEX, 32).map((t) => `trace_id=${t}`),
  chars(HEX, 16).map((s) => `span ${s} parent ${s}`),
  fc.tuple(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 0, max: 99 })).map(([ms, frac]) => `GET /api/orders/:id took ${ms}.${frac} ms (p95 ${ms} ms)`),
  fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }).map((t) => `at ${t} (${new Date(t).toISOString()})`),
  fc.tuple(fc.nat(30), fc.nat(99), fc.nat(999)).map(([a, b, c]) => `version ${a}.${b}.${c} build 2026-12-07`),
  fc.tuple(chars(LOWER, 4, 10), chars(`${LOWER}0123456789`, 9, 10), chars(`${LOWER}0123456789`, 5)).map(([svc, rs, pod]) => `pod ${svc}-${rs}-${pod} restarted`),
  fc.tuple(fc.integer({ min: 100, max: 599 }), fc.integer({ min: 1, max: 10_000_000 })).map(([status, n]) => `status ${status} for order ${n}, retry 3/5, error_rate 0.${status}`),
  chars(HEX, 40).map((sha) => `commit ${sha}`),
  // Key names that happen to contain a secret word (`pwd`, `auth`) are secret keys by design; not ordinary text.
  fc.tuple(chars(LOWER, 3, 12).filter((k) => !/password|passwd|passphrase|pwd|secret|token|apikey|credential|auth|cookie|signature/.test(k)), fc.nat(1000)).map(([k, n]) => `${k}_id=${n} ${k}_count: ${n} tokens_limit 4096`),
);
