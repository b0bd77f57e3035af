import { Counter, Gauge } from 'prom-client';
import { HeliosError, LEVELS, type HeliosConfig, type Level, type Logger, type Registry } from '@helios/core';
import { cursorAtTime, decodeEventCursor, type EventFilter, type StoreReader } from '@helios/store';
import type { GatewayRequest, GatewayResponse, ResponseStream } from '../http/transport.js';
import type { ApiRoute } from './api-route.js';
import { parseQueryParams, type ParamSpecs, type ParamValue } from './query-params.js';
import { EVENT_LIST, ERROR_RESPONSES, TRACE_EVENTS } from './schemas.js';

export interface ReadApiContext {
  store: StoreReader | undefined;
  /** The tenant a read is scoped to: the key's with auth on; with auth off the `tenant` parameter's, or every tenant (undefined). */
  tenantOf(request: GatewayRequest, requested: string | undefined): string | undefined;
  now: () => number;
  logger: Logger;
  metrics: Registry;
  config: HeliosConfig['gateway']['readApi'];
}

export function json(status: number, body: unknown): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function storeOf(ctx: ReadApiContext): StoreReader {
  if (ctx.store === undefined) throw new HeliosError('HLS_ERR_NOT_FOUND', 'this process serves no store API (run the api or all-in-one role)');
  return ctx.store;
}

const HOUR = 3_600_000;

/** The filters search and tail share. */
const FILTER_PARAMS: ParamSpecs = {
  service: { kind: 'string', multiple: true, description: 'Only these services (repeat the parameter, or separate with commas).' },
  level: { kind: 'string', multiple: true, values: LEVELS, description: 'Only these levels (repeat, or separate with commas).' },
  endpoint: { kind: 'string', description: 'Only this endpoint (exact).' },
  trace_id: { kind: 'string', maxLength: 32, description: 'Only this trace.' },
  q: { kind: 'string', maxLength: 200, description: 'Case-insensitive substring of the message or the error code.' },
  tenant: { kind: 'string', description: 'With auth off: only this tenant (default every tenant). With auth on: the key\'s tenant, or 400.' },
};

function filterOf(ctx: ReadApiContext, request: GatewayRequest, p: Record<string, ParamValue | undefined>): EventFilter {
  const tenant = ctx.tenantOf(request, p['tenant'] as string | undefined);
  return {
    ...(tenant === undefined ? {} : { tenant }),
    ...(p['service'] === undefined ? {} : { services: p['service'] as string[] }),
    ...(p['level'] === undefined ? {} : { levels: p['level'] as Level[] }),
    ...(p['endpoint'] === undefined ? {} : { endpoint: p['endpoint'] as string }),
    ...(p['trace_id'] === undefined ? {} : { traceId: p['trace_id'] as string }),
    ...(p['q'] === undefined ? {} : { text: p['q'] as string }),
  };
}

/** [from, to) of a read: to defaults to now, from to one hour before `to`; the span is bounded by maxRangeHours. */
export function timeRange(ctx: ReadApiContext, p: Record<string, ParamValue | undefined>): { from: number; to: number } {
  const to = (p['to'] as number | undefined) ?? ctx.now();
  const from = (p['from'] as number | undefined) ?? to - HOUR;
  if (from >= to) throw new HeliosError('HLS_ERR_QUERY_INVALID', `from: must be before to (${new Date(to).toISOString()})`, { details: ['from'] });
  if (to - from > ctx.config.maxRangeHours * HOUR) throw new HeliosError('HLS_ERR_QUERY_INVALID', `from: the range is at most ${ctx.config.maxRangeHours} h (gateway.readApi.maxRangeHours)`, { details: ['from'] });
  return { from, to };
}

const TRACE_ID = /^[0-9a-f]{32}$/;

interface Tail {
  out: ResponseStream;
  stop(reason: string): void;
}

/**
 * The live tail polls the store by keyset rather than subscribing to the bus: it then works wherever
 * the API runs (also an api role on Kafka that is not on the events topic), shows only events the store
 * has (what search will also find), resumes from Last-Event-ID with the same cursor, and costs ingestion
 * nothing: no subscriber on the bus, so a slow tail can never hold the bus back. The price is a delay:
 * it reads up to `tailDelayMs` before now, so events still being written (two write connections may
 * commit out of order) have landed; an event stored later than that after its own timestamp (a client
 * backfilling old events) is not shown by the tail, and search finds it.
 */
export function createEventsApi(ctx: ReadApiContext): { routes: ApiRoute[]; close(): void } {
  const tails = new Set<Tail>();
  const tailClients = new Gauge({ name: 'helios_tail_clients', help: 'Live tails (GET /api/v1/events/tail) connected', registers: [ctx.metrics] });
  const tailDropped = new Counter({ name: 'helios_tail_dropped_total', help: 'Live tails ended by the server because the client did not keep up', registers: [ctx.metrics] });

  const searchParams: ParamSpecs = {
    from: { kind: 'time', description: 'Start of the range, inclusive: epoch ms, ISO 8601, or a span before now (15m, 2h, 7d). Default: one hour before `to`.' },
    to: { kind: 'time', description: 'End of the range, exclusive. Default: now.' },
    ...FILTER_PARAMS,
    limit: { kind: 'integer', min: 1, max: 1000, description: 'Events per page (default 100).' },
    cursor: { kind: 'string', maxLength: 1000, description: 'The `next` of a previous page: the page of older events.' },
  };
  const search: ApiRoute = {
    path: '/api/v1/events', name: 'events_search', tag: 'events', query: searchParams,
    summary: 'Search stored events, newest first',
    description: 'Events in a bounded time range (default the last hour, at most gateway.readApi.maxRangeHours) matching every filter given, newest first, keyset-paged.',
    responses: { 200: { description: 'A page of events', content: { 'application/json': { schema: EVENT_LIST } } }, ...ERROR_RESPONSES },
    async handle(request) {
      const p = parseQueryParams(request.query, searchParams, ctx.now());
      const store = storeOf(ctx);
      const filter = filterOf(ctx, request, p);
      const { from, to } = timeRange(ctx, p);
      const page = await store.searchEvents({ ...filter, from, to, limit: (p['limit'] as number | undefined) ?? 100, ...(p['cursor'] === undefined ? {} : { cursor: p['cursor'] as string }) });
      return json(200, { items: page.items.map((s) => s.event), next: page.nextCursor ?? null, from, to });
    },
  };

  const traceParams: ParamSpecs = {
    limit: { kind: 'integer', min: 1, max: 10_000, description: 'Most events returned (default 1000); `truncated` says when there were more.' },
    tenant: FILTER_PARAMS['tenant']!,
  };
  const trace: ApiRoute = {
    path: '/api/v1/traces/{traceId}', name: 'trace', tag: 'events', query: traceParams,
    pathParams: { traceId: 'The trace id: 32 lower-case hex characters.' },
    summary: 'Every event of a trace, oldest first',
    responses: { 200: { description: 'The trace\'s events', content: { 'application/json': { schema: TRACE_EVENTS } } }, ...ERROR_RESPONSES },
    async handle(request, path) {
      const p = parseQueryParams(request.query, traceParams, ctx.now());
      const traceId = path['traceId']!;
      if (!TRACE_ID.test(traceId)) throw new HeliosError('HLS_ERR_QUERY_INVALID', `traceId: expected 32 lower-case hex characters, got ${JSON.stringify(traceId.slice(0, 100))}`, { details: ['traceId'] });
      const store = storeOf(ctx);
      const tenant = ctx.tenantOf(request, p['tenant'] as string | undefined);
      const found = await store.traceEvents({ traceId, limit: (p['limit'] as number | undefined) ?? 1000, ...(tenant === undefined ? {} : { tenant }) });
      // Another tenant's trace is not found, the same answer as no trace: ids of other tenants are not confirmed.
      if (found.items.length === 0) throw new HeliosError('HLS_ERR_NOT_FOUND', `no events of trace ${traceId}`);
      return json(200, { traceId, items: found.items, truncated: found.truncated });
    },
  };

  const tailParams: ParamSpecs = {
    from: { kind: 'time', description: 'Start with events from this time (default: now). Ignored when resuming with Last-Event-ID or `after`.' },
    after: { kind: 'string', maxLength: 1000, description: 'Resume after this event id (the SSE `id` of an event), like the Last-Event-ID header.' },
    ...FILTER_PARAMS,
  };
  const tail: ApiRoute = {
    path: '/api/v1/events/tail', name: 'events_tail', tag: 'events', query: tailParams,
    headers: { 'Last-Event-ID': 'Resume after this event (sent by EventSource on reconnect); within the retention window.' },
    summary: 'Live tail of stored events (server-sent events)',
    description: 'text/event-stream: each event as `event: event` with `id:` (a cursor to resume from) and the event as JSON `data:`; a comment every 15 s as heartbeat. ' +
      'A client that does not keep up gets a final `event: dropped` (data: {"reason", "resume"}) and the stream ends; on shutdown `event: end`.',
    responses: { 200: { description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...ERROR_RESPONSES },
    async handle(request) {
      const p = parseQueryParams(request.query, tailParams, ctx.now());
      const store = storeOf(ctx);
      const filter = filterOf(ctx, request, p);
      const lastEventId = request.headers['last-event-id'] ?? '';
      const resume = lastEventId !== '' ? { text: lastEventId, name: 'Last-Event-ID' } : p['after'] !== undefined ? { text: p['after'] as string, name: 'after' } : undefined;
      let position: string;
      if (resume !== undefined) {
        decodeEventCursor(resume.text, resume.name); // a bad one is a 400 now, not a broken stream later
        position = resume.text;
      } else {
        position = cursorAtTime((p['from'] as number | undefined) ?? ctx.now());
      }
      if (tails.size >= ctx.config.maxTails) throw new HeliosError('HLS_ERR_OVERLOADED', `${tails.size} live tails are open (gateway.readApi.maxTails)`);
      return {
        status: 200,
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
        stream: (out) => runTail(store, out, filter, position),
      };
    },
  };

  function runTail(store: StoreReader, out: ResponseStream, filter: EventFilter, start: string): void {
    let position = start;
    let polling = false;
    let stopped = false;
    let pressuredSince: number | undefined;
    const { tailPollMs, tailDelayMs, tailStallMs } = ctx.config;
    const self: Tail = { out, stop };
    tails.add(self);
    tailClients.set(tails.size);
    const poller = setInterval(() => void poll(), tailPollMs);
    const heartbeat = setInterval(() => out.write(': heartbeat\n\n'), 15_000);
    poller.unref();
    heartbeat.unref();
    out.onClose(() => stop(''));
    out.write(`retry: ${Math.max(1000, tailPollMs)}\n\n`);
    void poll();

    function stop(finalEvent: string): void {
      if (stopped) return;
      stopped = true;
      clearInterval(poller);
      clearInterval(heartbeat);
      tails.delete(self);
      tailClients.set(tails.size);
      if (finalEvent !== '') out.write(finalEvent);
      out.end();
    }

    async function poll(): Promise<void> {
      if (polling || stopped) return;
      if (out.backpressured) {
        // The transport holds at most one page the client has not taken; no more is read until it has.
        pressuredSince ??= ctx.now();
        if (ctx.now() - pressuredSince > tailStallMs) {
          tailDropped.inc();
          stop(`event: dropped\ndata: ${JSON.stringify({ reason: `the client did not take events for ${tailStallMs} ms`, resume: position })}\n\n`);
        }
        return;
      }
      pressuredSince = undefined;
      polling = true;
      try {
        for (;;) {
          const batch = await store.eventsAfter({ ...filter, after: position, until: ctx.now() - tailDelayMs, limit: TAIL_PAGE });
          if (stopped || batch.length === 0) return;
          let chunk = '';
          for (const s of batch) chunk += `id: ${s.cursor}\nevent: event\ndata: ${JSON.stringify(s.event)}\n\n`;
          position = batch[batch.length - 1]!.cursor;
          // A full page: catching up (a resume, a burst): read on at once while the client keeps up.
          if (!out.write(chunk) || batch.length < TAIL_PAGE) return;
        }
      } catch (err) {
        ctx.logger.warn({ err: (err as Error).message }, 'live tail: reading the store failed; retrying at the next poll');
      } finally {
        polling = false;
      }
    }
  }

  return {
    routes: [search, tail, trace],
    close() {
      for (const t of [...tails]) t.stop('event: end\ndata: {"reason":"server shutting down"}\n\n');
    },
  };
}

/** Events per store read of a tail: the most a slow client can have waiting in the transport. */
const TAIL_PAGE = 500;
