/**
 * The read API as the console calls it. The API key lives in sessionStorage (gone when the tab closes)
 * and travels only as `Authorization: Bearer` — never in a URL, where it would land in access logs and
 * browser history. The live tail is read with fetch and a stream reader for the same reason:
 * EventSource cannot send headers.
 */
const KEY_ITEM = 'helios.apiKey';

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

export function setApiKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_ITEM);
  else sessionStorage.setItem(KEY_ITEM, key);
}

/** An answer other than 2xx, with the API's error code and message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = apiKey();
  return key === null ? extra : { ...extra, authorization: `Bearer ${key}` };
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code !== undefined) code = body.error.code;
    if (body.error?.message !== undefined) message = body.error.message;
  } catch {
    // not a JSON error body: keep the status line
  }
  return new ApiError(res.status, code, message);
}

/** GET (or POST with a JSON body) an API path; resolves with the parsed JSON, or rejects with ApiError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: headers(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
    cache: 'no-store',
    credentials: 'omit',
  });
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A query string from the defined, non-empty values (arrays repeat the parameter). */
export function query(params: Record<string, string | number | readonly string[] | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value) q.append(name, v);
    else q.set(name, String(value));
  }
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * A server-sent-events parser fed with text chunks as they arrive (a chunk may end mid-line or
 * mid-message): calls `onMessage` per complete message. Comments (heartbeats) and `retry:` are skipped.
 */
export function createSseParser(onMessage: (message: SseMessage) => void): (chunk: string) => void {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  return (chunk) => {
    buffer += chunk;
    for (;;) {
      const nl = buffer.search(/\r\n|\r|\n/);
      if (nl < 0) return;
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? nl + 2 : nl + 1);
      if (line === '') {
        if (data.length > 0) onMessage({ event: event === '' ? 'message' : event, data: data.join('\n'), id });
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
  };
}

/**
 * Read a server-sent-events stream until `signal` aborts or the server ends it. Resolves with the reason
 * it ended ('end' from the server, 'aborted', or the message of a `dropped` event). `onOpen` runs once the
 * server has answered: from then on, new events reach `onMessage`.
 */
export async function stream(path: string, onMessage: (message: SseMessage) => void, signal: AbortSignal, onOpen: () => void = () => {}): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal, cache: 'no-store', credentials: 'omit' });
  } catch (err) {
    if (signal.aborted) return 'aborted';
    throw err;
  }
  if (!res.ok || res.body === null) throw await errorOf(res);
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let ended = 'the server closed the stream';
  const parse = createSseParser((m) => {
    if (m.event === 'dropped' || m.event === 'end') {
      try {
        ended = (JSON.parse(m.data) as { reason?: string }).reason ?? m.event;
      } catch {
        ended = m.event;
      }
    } else onMessage(m);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return ended;
      parse(value);
    }
  } catch (err) {
    if (signal.aborted) return 'aborted';
    throw err;
  } finally {
    reader.releaseLock();
  }
}
