import { ErrorCodes, HeliosError, type ErrorCode, type IncidentRecord, type Silence } from '@helios/core';
import { stringOption, type CommandModule, type CommandContext, type OptionSpecs } from './command.js';
import { targetOf, type ApiTarget } from './events.js';

/**
 * The on-call console in the terminal: `helios incidents` and `helios silences` speak the gateway's
 * incident and silence API (GET/POST /api/v1/incidents…, /api/v1/silences), so they work against any
 * running Helios, local or remote, with the same tenant scoping as the API.
 */

/** The flags every console command takes: where the API is and the key to call it with. */
const API_OPTIONS: OptionSpecs = {
  url: { type: 'string', value: '<url>', description: 'Helios API base URL [HELIOS_URL]; default http://127.0.0.1:<gateway.port>' },
  'api-key': { type: 'string', value: '<key>', description: 'API key when auth is on [HELIOS_API_KEY]' },
};

/** One API call; a refusal becomes the gateway's own coded error (its code and message, e.g. a 400 naming the field). */
async function api<T>(target: ApiTarget, method: string, path: string, body?: unknown): Promise<T | undefined> {
  let response: Response;
  try {
    response = await fetch(`${target.base}${path}`, {
      method,
      headers: { ...target.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new HeliosError('HLS_ERR_USAGE', `cannot reach Helios at ${target.base} (--url): ${(err as Error).message}`);
  }
  const text = await response.text();
  if (response.ok) return text === '' ? undefined : (JSON.parse(text) as T);
  let error: { code?: string; message?: string } = {};
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
  } catch {
    // not a Helios error body; the status says enough
  }
  const code: ErrorCode = typeof error.code === 'string' && Object.hasOwn(ErrorCodes, error.code) ? (error.code as ErrorCode) : 'HLS_ERR_INTERNAL';
  throw new HeliosError(code, `${method} ${path}: HTTP ${response.status}${error.message === undefined ? '' : `: ${error.message}`}`);
}

const time = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

function incidentLine(i: IncidentRecord): string {
  const by = i.status === 'resolved' ? ` by ${i.resolvedBy}` : i.status === 'acknowledged' ? ` by ${i.acknowledgedBy}` : '';
  const extras = [i.silencedBy === undefined ? '' : 'silenced', i.feedback === undefined ? '' : i.feedback.rating === 'up' ? '👍' : '👎'].filter((x) => x !== '').join(' ');
  return `${i.id}  ${time(i.openedAt)}  ${i.severity.padEnd(8)} ${`${i.status}${by}`.padEnd(30)} ${i.tenant}/${i.service}${i.series === undefined ? '' : ` ${i.series}`}${extras === '' ? '' : `  ${extras}`}`;
}

function silenceLine(s: Silence): string {
  return `${s.id}  ${s.tenant}/${s.service}  ${time(s.startsAt)} → ${time(s.endsAt)}  by ${s.createdBy}${s.comment === '' ? '' : `  "${s.comment}"`}`;
}

/** `2h`, `30m`, `1d`, `90s` as milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (m === null) throw new HeliosError('HLS_ERR_USAGE', `silences: ${flag} expects a duration such as 30m, 2h or 1d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function print(ctx: CommandContext, value: unknown, lines: string[]): void {
  ctx.stdout(ctx.json ? `${JSON.stringify(value)}\n` : lines.length === 0 ? '(none)\n' : `${lines.join('\n')}\n`);
}

/** The named flags given, as API query parameters of the same names. */
function queryOf(ctx: CommandContext, names: readonly string[]): URLSearchParams {
  const query = new URLSearchParams();
  for (const name of names) {
    const value = stringOption(ctx.values, name);
    if (value !== undefined) query.set(name, value);
  }
  return query;
}

function requireId(command: string, ctx: CommandContext): string {
  const id = ctx.positionals[1];
  if (id === undefined) throw new HeliosError('HLS_ERR_USAGE', `helios ${command} ${ctx.positionals[0]}: give the id`);
  return encodeURIComponent(id);
}

type Action = (ctx: CommandContext, target: ApiTarget) => Promise<void>;

/** A command whose first positional names the action (default `list`); an unknown one is refused listing the known. */
function byAction(command: string, actions: Readonly<Record<string, Action>>): (ctx: CommandContext) => Promise<void> {
  return async (ctx) => {
    const action = ctx.positionals[0] ?? 'list';
    const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (run === undefined) throw new HeliosError('HLS_ERR_USAGE', `helios ${command}: unknown action ${JSON.stringify(action)}; expected ${Object.keys(actions).join(', ')}`);
    return run(ctx, targetOf(ctx));
  };
}

/** GET a list with the query, printed one line per item. */
async function printList<T>(ctx: CommandContext, target: ApiTarget, path: string, query: URLSearchParams, line: (item: T) => string): Promise<void> {
  const page = (await api<{ items: T[] }>(target, 'GET', `${path}${query.size > 0 ? `?${query}` : ''}`))!;
  print(ctx, page, page.items.map(line));
}

/** One incident read or changed (show, ack, resolve, feedback), printed as its line. */
async function printIncident(ctx: CommandContext, target: ApiTarget, method: 'GET' | 'POST', suffix: string, body?: unknown): Promise<void> {
  const incident = (await api<IncidentRecord>(target, method, `/api/v1/incidents/${requireId('incidents', ctx)}${suffix}`, body))!;
  print(ctx, incident, [incidentLine(incident)]);
}

export const incidents: CommandModule = {
  usage: [
    '  helios incidents [list] [--service <name>] [--status open|acknowledged|resolved] [--limit 50]',
    '  helios incidents show <id>',
    '  helios incidents ack <id>            acknowledged by your API key',
    '  helios incidents resolve <id>        resolved by your API key; reporters get the resolution',
    '  helios incidents feedback <id> up|down [--comment <text>]',
    '  common: [--url http://127.0.0.1:<gateway.port>] [--api-key <key> | HELIOS_API_KEY] [--json]',
  ].join('\n'),
  positionals: '[list | show <id> | ack <id> | resolve <id> | feedback <id> up|down]',
  options: {
    service: { type: 'string', value: '<name>', description: 'list: only this service' },
    status: { type: 'string', value: '<status>', description: 'list: only open, acknowledged or resolved incidents' },
    limit: { type: 'string', value: '<n>', description: 'list: at most this many (1 to 500; default 50)' },
    comment: { type: 'string', value: '<text>', description: 'feedback: why' },
    ...API_OPTIONS,
  },
  run: byAction('incidents', {
    list: (ctx, target) => printList(ctx, target, '/api/v1/incidents', queryOf(ctx, ['service', 'status', 'limit']), incidentLine),
    show: (ctx, target) => printIncident(ctx, target, 'GET', ''),
    ack: (ctx, target) => printIncident(ctx, target, 'POST', '/ack'),
    resolve: (ctx, target) => printIncident(ctx, target, 'POST', '/resolve'),
    feedback(ctx, target) {
      const rating = ctx.positionals[2];
      if (rating !== 'up' && rating !== 'down') throw new HeliosError('HLS_ERR_USAGE', `helios incidents feedback: give up or down after the id, got ${JSON.stringify(rating ?? '')}`);
      const comment = stringOption(ctx.values, 'comment');
      return printIncident(ctx, target, 'POST', '/feedback', { rating, ...(comment === undefined ? {} : { comment }) });
    },
  }),
};

export const silences: CommandModule = {
  usage: [
    '  helios silences [list] [--service <name>] [--active]',
    '  helios silences add --service <name> (--for 2h | --until <RFC 3339 time>) [--from <RFC 3339 time>] [--comment <text>]',
    '  helios silences rm <id>',
    '  common: [--url http://127.0.0.1:<gateway.port>] [--api-key <key> | HELIOS_API_KEY] [--json]',
  ].join('\n'),
  positionals: '[list | add | rm <id>]',
  options: {
    service: { type: 'string', value: '<name>', description: 'list: only this service; add: the service to silence (required)' },
    active: { type: 'boolean', description: 'list: only silences in force now' },
    for: { type: 'string', value: '<duration>', description: 'add: how long, e.g. 30m, 2h, 1d' },
    until: { type: 'string', value: '<time>', description: 'add: until this RFC 3339 time (instead of --for)' },
    from: { type: 'string', value: '<time>', description: 'add: from this RFC 3339 time; default now' },
    comment: { type: 'string', value: '<text>', description: 'add: why' },
    ...API_OPTIONS,
  },
  run: byAction('silences', {
    list(ctx, target) {
      const query = queryOf(ctx, ['service']);
      if (ctx.values['active'] === true) query.set('active', 'true');
      return printList(ctx, target, '/api/v1/silences', query, silenceLine);
    },
    async add(ctx, target) {
      const service = stringOption(ctx.values, 'service');
      if (service === undefined) throw new HeliosError('HLS_ERR_USAGE', 'helios silences add: --service is required');
      const from = stringOption(ctx.values, 'from');
      const startsAt = from === undefined ? Date.now() : Date.parse(from);
      if (Number.isNaN(startsAt)) throw new HeliosError('HLS_ERR_USAGE', `helios silences add: --from expects an RFC 3339 time, got ${JSON.stringify(from)}`);
      const duration = stringOption(ctx.values, 'for');
      const until = stringOption(ctx.values, 'until');
      if ((duration === undefined) === (until === undefined)) throw new HeliosError('HLS_ERR_USAGE', 'helios silences add: give exactly one of --for <duration> and --until <time>');
      const endsAt = duration !== undefined ? startsAt + parseDuration(duration, '--for') : Date.parse(until!);
      if (Number.isNaN(endsAt)) throw new HeliosError('HLS_ERR_USAGE', `helios silences add: --until expects an RFC 3339 time, got ${JSON.stringify(until)}`);
      const comment = stringOption(ctx.values, 'comment');
      const silence = await api<Silence>(target, 'POST', '/api/v1/silences', { service, startsAt, endsAt, ...(comment === undefined ? {} : { comment }) });
      print(ctx, silence, [silenceLine(silence!)]);
    },
    async rm(ctx, target) {
      const id = requireId('silences', ctx);
      await api(target, 'DELETE', `/api/v1/silences/${id}`);
      print(ctx, { deleted: decodeURIComponent(id) }, [`deleted ${decodeURIComponent(id)}`]);
    },
  }),
};
