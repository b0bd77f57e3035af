import { HeliosError, type ErrorCode, type HeliosEvent } from '@helios/core';
import { stringOption, stringsOption, type CommandModule, type CommandContext, type OptionSpecs } from './command.js';

/**
 * `helios events` and `helios tail`: the read API (GET /api/v1/events and /api/v1/events/tail) from a
 * terminal. Human lines on a TTY; one JSON event a line with --json or when stdout is not a terminal
 * (a pipe into jq gets JSON without asking).
 */
const FILTER_OPTIONS: OptionSpecs = {
  service: { type: 'string', multiple: true, value: '<name>', description: 'Only this service (repeatable)' },
  level: { type: 'string', multiple: true, value: '<level>', description: 'Only this level: TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL (repeatable)' },
  endpoint: { type: 'string', value: '<path>', description: 'Only this endpoint' },
  trace: { type: 'string', value: '<trace id>', description: 'Only this trace (32 hex characters)' },
  q: { type: 'string', value: '<text>', description: 'Message or error code contains this (case-insensitive)' },
  since: { type: 'string', value: '<time>', description: 'From this time: a span before now (15m, 2h, 7d), ISO 8601 or epoch ms; events: default 1h, tail: default now' },
  url: { type: 'string', value: '<url>', description: 'Helios API base URL [HELIOS_URL]; default http://127.0.0.1:<gateway.port>' },
  'api-key': { type: 'string', value: '<key>', description: 'API key when auth is on [HELIOS_API_KEY]' },
};

interface ApiTarget {
  base: string;
  headers: Record<string, string>;
}

function targetOf(ctx: CommandContext): ApiTarget {
  const url = stringOption(ctx.values, 'url') ?? process.env['HELIOS_URL'] ?? `http://127.0.0.1:${ctx.loaded.config.gateway.port}`;
  const key = stringOption(ctx.values, 'api-key') ?? process.env['HELIOS_API_KEY'];
  return { base: url.replace(/\/+$/, ''), headers: key === undefined || key === '' ? {} : { authorization: `Bearer ${key}` } };
}

/** The filters as API query parameters (the API validates them and names a bad one). */
function filterQuery(ctx: CommandContext): URLSearchParams {
  const q = new URLSearchParams();
  for (const s of stringsOption(ctx.values, 'service') ?? []) q.append('service', s);
  for (const l of stringsOption(ctx.values, 'level') ?? []) q.append('level', l.toUpperCase());
  const add = (flag: string, param: string) => {
    const v = stringOption(ctx.values, flag);
    if (v !== undefined) q.set(param, v);
  };
  add('endpoint', 'endpoint');
  add('trace', 'trace_id');
  add('q', 'q');
  add('since', 'from');
  return q;
}

async function request(target: ApiTarget, path: string, headers: Record<string, string> = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${target.base}${path}`, { headers: { ...target.headers, ...headers } });
  } catch (err) {
    throw new HeliosError('HLS_ERR_USAGE', `could not reach the Helios API at ${target.base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); start it with \`helios up\` or pass --url`);
  }
  if (res.ok) return res;
  const text = await res.text();
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    error = undefined;
  }
  // The API's own code and message (e.g. HLS_ERR_QUERY_INVALID naming the parameter), with flag names where they differ.
  const message = (error?.message ?? `HTTP ${res.status}`).replace(/^trace_id:/, '--trace:').replace(/^from:/, '--since:');
  throw new HeliosError((error?.code ?? 'HLS_ERR_INTERNAL') as ErrorCode, message);
}

const LEVEL_COLOURS: Record<string, string> = { ERROR: '\x1b[31m', CRITICAL: '\x1b[1;31m', WARN: '\x1b[33m', DEBUG: '\x1b[2m', TRACE: '\x1b[2m' };

/** One event as a terminal line: time, level, service, endpoint, message, error code, trace. */
export function humanLine(e: HeliosEvent, colour: boolean): string {
  const level = e.level.padEnd(8);
  const parts = [new Date(e.timestamp).toISOString(), colour && LEVEL_COLOURS[e.level] !== undefined ? `${LEVEL_COLOURS[e.level]}${level}\x1b[0m` : level, e.service];
  if (e.endpoint !== null) parts.push(e.endpoint);
  parts.push(e.message.replace(/[\r\n]+/g, ' '));
  if (e.error_code !== null) parts.push(`[${e.error_code}]`);
  if (e.status_code !== null) parts.push(`status=${e.status_code}`);
  if (e.latency_ms !== null) parts.push(`${e.latency_ms}ms`);
  if (e.trace_id !== null) parts.push(`trace=${e.trace_id}`);
  return parts.join('  ');
}

function printerOf(ctx: CommandContext): (e: HeliosEvent) => void {
  const tty = process.stdout.isTTY === true;
  if (ctx.json || !tty) return (e) => ctx.stdout(`${JSON.stringify(e)}\n`);
  return (e) => ctx.stdout(`${humanLine(e, true)}\n`);
}

export const events: CommandModule = {
  options: { ...FILTER_OPTIONS, limit: { type: 'string', value: '<n>', description: 'Most events printed, 1 to 100000 (default 100)' } },
  usage: '  Example: helios events --service checkout --level ERROR --since 15m --q timeout\n  Human lines on a terminal; one JSON event a line with --json or when piped.',
  async run(ctx) {
    const limitText = stringOption(ctx.values, 'limit') ?? '100';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new HeliosError('HLS_ERR_USAGE', `--limit: expected an integer from 1 to 100000, got ${JSON.stringify(limitText)}`);
    const target = targetOf(ctx);
    const print = printerOf(ctx);
    const query = filterQuery(ctx);
    let printed = 0;
    let cursor: string | null = null;
    do {
      const page = new URLSearchParams(query);
      page.set('limit', String(Math.min(1000, limit - printed)));
      if (cursor !== null) page.set('cursor', cursor);
      const body = (await (await request(target, `/api/v1/events?${page}`)).json()) as { items: HeliosEvent[]; next: string | null };
      for (const e of body.items) print(e);
      printed += body.items.length;
      cursor = body.next;
    } while (cursor !== null && printed < limit);
    if (printed === 0 && !ctx.json && process.stdout.isTTY === true) process.stderr.write('no events match\n');
  },
};

/** Server-sent events of one response, as they arrive. */
async function* serverSentEvents(res: Response): AsyncGenerator<{ event: string; id: string | undefined; data: string }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'id') id = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length > 0) yield { event, id, data: data.join('\n') };
    }
  }
}

export const tail: CommandModule = {
  options: FILTER_OPTIONS,
  usage: '  Example: helios tail --service checkout --level WARN --level ERROR\n  Reconnects and resumes where it was (Last-Event-ID) when the stream ends; Ctrl-C stops.',
  async run(ctx) {
    const target = targetOf(ctx);
    const print = printerOf(ctx);
    const query = filterQuery(ctx);
    let lastId: string | undefined;
    for (;;) {
      const res = await request(target, `/api/v1/events/tail?${query}`, lastId === undefined ? {} : { 'last-event-id': lastId });
      let ended = false;
      for await (const message of serverSentEvents(res)) {
        if (message.event === 'event') {
          print(JSON.parse(message.data) as HeliosEvent);
          lastId = message.id ?? lastId;
        } else if (message.event === 'dropped') {
          const why = JSON.parse(message.data) as { reason: string; resume: string };
          process.stderr.write(`helios tail: the server dropped this tail (${why.reason}); resuming\n`);
          lastId = why.resume;
        } else if (message.event === 'end') {
          ended = true;
        }
      }
      if (ended) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
};
