import { ErrorCodes, HeliosError, type ErrorCode, type IncidentRecord, type Silence } from '@helios/core';
import type { Command, CommandContext } from './command.js';

/**
 * The on-call console in the terminal: `helios incidents` and `helios silences` speak the gateway's
 * incident and silence API (GET/POST /api/v1/incidents…, /api/v1/silences), so they work against any
 * running Helios, local or remote, with the same tenant scoping as the API.
 */

interface ApiFlags {
  url: string;
  apiKey: string | undefined;
  values: Map<string, string>;
  positional: string[];
}

/** `--name value` / `--name=value` flags and positional words; unknown flags are refused naming them. */
function parseApiArgs(command: string, args: readonly string[], known: readonly string[], defaultUrl: string): ApiFlags {
  const values = new Map<string, string>();
  const positional: string[] = [];
  const all = [...known, 'url', 'api-key'];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!all.includes(name)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${command}: unknown flag --${name}; known: ${all.map((k) => `--${k}`).join(', ')}`);
    if (name === 'active') values.set(name, inline ?? 'true');
    else if (inline !== undefined) values.set(name, inline);
    else if (i + 1 < args.length) values.set(name, args[++i]!);
    else throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${command}: --${name} needs a value`);
  }
  return { url: (values.get('url') ?? defaultUrl).replace(/\/+$/, ''), apiKey: values.get('api-key') ?? process.env['HELIOS_API_KEY'], values, positional };
}

/** One API call; a refusal becomes the gateway's own coded error (its code and message, e.g. a 400 naming the field). */
async function api<T>(flags: ApiFlags, method: string, path: string, body?: unknown): Promise<T | undefined> {
  let response: Response;
  try {
    response = await fetch(`${flags.url}${path}`, {
      method,
      headers: { ...(flags.apiKey === undefined ? {} : { authorization: `Bearer ${flags.apiKey}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new HeliosError('HLS_ERR_CONFIG_INVALID', `cannot reach Helios at ${flags.url} (--url): ${(err as Error).message}`);
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
  if (m === null) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `silences: ${flag} expects a duration such as 30m, 2h or 1d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function print(ctx: CommandContext, value: unknown, lines: string[]): void {
  ctx.stdout(ctx.json ? `${JSON.stringify(value)}\n` : lines.length === 0 ? '(none)\n' : `${lines.join('\n')}\n`);
}

function requireId(command: string, flags: ApiFlags): string {
  const id = flags.positional[1];
  if (id === undefined) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${command} ${flags.positional[0]}: give the id`);
  return encodeURIComponent(id);
}

export const incidents: Command = {
  name: 'incidents',
  summary: 'List, acknowledge, resolve and rate incidents through the API of a running Helios',
  usage: [
    '  helios incidents [list] [--service <name>] [--status open|acknowledged|resolved] [--limit 50]',
    '  helios incidents show <id>',
    '  helios incidents ack <id>            acknowledged by your API key',
    '  helios incidents resolve <id>        resolved by your API key; reporters get the resolution',
    '  helios incidents feedback <id> up|down [--comment <text>]',
    '  common: [--url http://127.0.0.1:<gateway.port>] [--api-key <key> | HELIOS_API_KEY] [--json]',
  ].join('\n'),
  async run(ctx) {
    const flags = parseApiArgs('incidents', ctx.args, ['service', 'status', 'limit', 'comment'], `http://127.0.0.1:${ctx.loaded.config.gateway.port}`);
    const action = flags.positional[0] ?? 'list';
    if (action === 'list') {
      const query = new URLSearchParams([...flags.values].filter(([k]) => ['service', 'status', 'limit'].includes(k)));
      const page = (await api<{ items: IncidentRecord[] }>(flags, 'GET', `/api/v1/incidents${query.size > 0 ? `?${query}` : ''}`))!;
      return print(ctx, page, page.items.map(incidentLine));
    }
    const id = requireId('incidents', flags);
    let incident: IncidentRecord | undefined;
    if (action === 'show') incident = await api<IncidentRecord>(flags, 'GET', `/api/v1/incidents/${id}`);
    else if (action === 'ack' || action === 'resolve') incident = await api<IncidentRecord>(flags, 'POST', `/api/v1/incidents/${id}/${action}`);
    else if (action === 'feedback') {
      const rating = flags.positional[2];
      if (rating !== 'up' && rating !== 'down') throw new HeliosError('HLS_ERR_CONFIG_INVALID', `incidents feedback: give up or down after the id, got ${JSON.stringify(rating ?? '')}`);
      const comment = flags.values.get('comment');
      incident = await api<IncidentRecord>(flags, 'POST', `/api/v1/incidents/${id}/feedback`, { rating, ...(comment === undefined ? {} : { comment }) });
    } else throw new HeliosError('HLS_ERR_CONFIG_INVALID', `incidents: unknown action ${JSON.stringify(action)}; expected list, show, ack, resolve or feedback`);
    print(ctx, incident, [incidentLine(incident!)]);
  },
};

export const silences: Command = {
  name: 'silences',
  summary: 'List, add and remove silences (maintenance windows that hold pages back) through the API of a running Helios',
  usage: [
    '  helios silences [list] [--service <name>] [--active]',
    '  helios silences add --service <name> (--for 2h | --until <RFC 3339 time>) [--from <RFC 3339 time>] [--comment <text>]',
    '  helios silences rm <id>',
    '  common: [--url http://127.0.0.1:<gateway.port>] [--api-key <key> | HELIOS_API_KEY] [--json]',
  ].join('\n'),
  async run(ctx) {
    const flags = parseApiArgs('silences', ctx.args, ['service', 'active', 'for', 'until', 'from', 'comment'], `http://127.0.0.1:${ctx.loaded.config.gateway.port}`);
    const action = flags.positional[0] ?? 'list';
    if (action === 'list') {
      const query = new URLSearchParams([...flags.values].filter(([k]) => ['service', 'active'].includes(k)));
      const result = (await api<{ items: Silence[] }>(flags, 'GET', `/api/v1/silences${query.size > 0 ? `?${query}` : ''}`))!;
      return print(ctx, result, result.items.map(silenceLine));
    }
    if (action === 'add') {
      const service = flags.values.get('service');
      if (service === undefined) throw new HeliosError('HLS_ERR_CONFIG_INVALID', 'silences add: --service is required');
      const from = flags.values.get('from');
      const startsAt = from === undefined ? Date.now() : Date.parse(from);
      if (Number.isNaN(startsAt)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `silences add: --from expects an RFC 3339 time, got ${JSON.stringify(from)}`);
      const duration = flags.values.get('for');
      const until = flags.values.get('until');
      if ((duration === undefined) === (until === undefined)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', 'silences add: give exactly one of --for <duration> and --until <time>');
      const endsAt = duration !== undefined ? startsAt + parseDuration(duration, '--for') : Date.parse(until!);
      if (Number.isNaN(endsAt)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `silences add: --until expects an RFC 3339 time, got ${JSON.stringify(until)}`);
      const comment = flags.values.get('comment');
      const silence = await api<Silence>(flags, 'POST', '/api/v1/silences', { service, startsAt, endsAt, ...(comment === undefined ? {} : { comment }) });
      return print(ctx, silence, [silenceLine(silence!)]);
    }
    if (action === 'rm') {
      const id = requireId('silences', flags);
      await api(flags, 'DELETE', `/api/v1/silences/${id}`);
      return print(ctx, { deleted: decodeURIComponent(id) }, [`deleted ${decodeURIComponent(id)}`]);
    }
    throw new HeliosError('HLS_ERR_CONFIG_INVALID', `silences: unknown action ${JSON.stringify(action)}; expected list, add or rm`);
  },
};
