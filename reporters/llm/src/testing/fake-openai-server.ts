import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** How the fake answers one request: a chat completion with this content, an HTTP error, or a delay first. */
export type FakeAnswer =
  | { kind: 'content'; content: string; delayMs?: number; usage?: { prompt_tokens: number; completion_tokens: number } }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> };

/**
 * A local server speaking the OpenAI chat-completions wire format (POST /v1/chat/completions), for
 * tests and the bench: it records every request body and answers from a script, one entry per request
 * (the last entry repeats).
 */
export async function startFakeOpenAI(script: FakeAnswer[]): Promise<{ baseURL: string; requests: RecordedRequest[]; setScript(next: FakeAnswer[]): void; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  let answers = script;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      const answer = answers[Math.min(requests.length - 1, answers.length - 1)]!;
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
        return;
      }
      if (answer.kind === 'status') {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body ?? { error: { message: `status ${answer.status}`, type: 'server_error' } }));
        return;
      }
      const model = (JSON.parse(body) as { model?: string }).model ?? 'fake';
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          id: `chatcmpl-${requests.length}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
          choices: [{ index: 0, message: { role: 'assistant', content: answer.content, refusal: null }, finish_reason: 'stop', logprobs: null }],
          usage: { ...(answer.usage ?? { prompt_tokens: 1200, completion_tokens: 400 }), total_tokens: (answer.usage?.prompt_tokens ?? 1200) + (answer.usage?.completion_tokens ?? 400) },
        }));
      };
      if (answer.delayMs !== undefined) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    setScript(next) {
      answers = next;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A complete, schema-valid model answer. */
export function validAnswer(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    title: 'HIGH: checkout — database timeouts',
    executiveSummary: 'Checkout failed 35% of requests between 12:55 and 13:00 UTC because the database timed out.',
    rootCauseAnalysis: 'DB_TIMEOUT dominates the errors (200 events) and p95 latency rose from 80 ms to 1.4 s.',
    impactAssessment: 'Tenant default; /api/payments 190 errors of 200.',
    recommendedActions: { immediate: ['Check the database.'], shortTerm: ['Add a circuit breaker.'], longTerm: ['Add capacity.'] },
    preventionMeasures: ['Failure-injection tests.'],
    ...overrides,
  });
}
