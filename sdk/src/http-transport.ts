import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { parseRetryAfter } from './retry-policy.js';

const gzip = promisify(gzipCallback);

/** Outcomes are values: expected failures (gateway down, overloaded, rejecting) are not exceptions. */
export type SendOutcome =
  | { status: 'success' }
  | { status: 'retryable'; retryAfterMs: number | undefined; reason: string }
  | { status: 'failure'; httpStatus: number; reason: string };

export interface Transport {
  /** POST one JSON body (an array of events). Never rejects. */
  send(json: string): Promise<SendOutcome>;
  close(): void;
}

export interface HttpTransportOptions {
  url: string;
  apiKey: string | undefined;
  compression: 'gzip' | 'none';
  timeoutMs: number;
  userAgent: string;
}

// 408/429 and the gateway-side 5xx are transient; every event carries its id, so a resend after an
// answer that was lost in transit is deduplicated by the gateway.
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const MAX_ERROR_BODY = 2048;

export function createHttpTransport(options: HttpTransportOptions): Transport {
  const url = new URL(options.url);
  const client = url.protocol === 'https:' ? https : http;
  // One keep-alive socket is enough: the exporter has at most one request in flight.
  const agent = new client.Agent({ keepAlive: true, maxSockets: 1 });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': options.userAgent,
  };
  if (options.apiKey !== undefined) headers['authorization'] = `Bearer ${options.apiKey}`;
  if (options.compression === 'gzip') headers['content-encoding'] = 'gzip';

  let closed = false;

  async function send(json: string): Promise<SendOutcome> {
    if (closed) return { status: 'retryable', retryAfterMs: undefined, reason: 'transport closed' };
    // zlib's async gzip runs on the libuv thread pool, off the application's event loop.
    // Level 1: repetitive event JSON still shrinks several-fold, at a fraction of level 6's CPU.
    const body = options.compression === 'gzip' ? await gzip(json, { level: 1 }) : Buffer.from(json);
    if (closed) return { status: 'retryable', retryAfterMs: undefined, reason: 'transport closed' };
    return new Promise<SendOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: SendOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const request = client.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) }, timeout: options.timeoutMs }, (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_ERROR_BODY) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('error', (error) => finish({ status: 'retryable', retryAfterMs: undefined, reason: error.message }));
        response.on('end', () => {
          if (status >= 200 && status < 300) return finish({ status: 'success' });
          const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY);
          const reason = `HTTP ${status}${text === '' ? '' : `: ${text}`}`;
          if (RETRYABLE_STATUS.has(status)) finish({ status: 'retryable', retryAfterMs: parseRetryAfter(response.headers['retry-after']), reason });
          else finish({ status: 'failure', httpStatus: status, reason });
        });
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      request.on('error', (error) => finish({ status: 'retryable', retryAfterMs: undefined, reason: error.message }));
      request.end(body);
    });
  }

  return {
    send,
    close() {
      closed = true;
      agent.destroy();
    },
  };
}
