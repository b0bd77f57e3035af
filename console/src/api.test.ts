import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseParser, query, type SseMessage } from './api.js';

/** The server's framing (gateway/src/routes/events-api.ts): `id:`, `event:`, one `data:` line, blank line; comments as heartbeats. */
function frame(m: { id: string; event: string; data: string }): string {
  return `id: ${m.id}\nevent: ${m.event}\ndata: ${m.data}\n\n`;
}

describe('server-sent events parser', () => {
  const message = fc.record({
    id: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    event: fc.constantFrom('event', 'dropped', 'end'),
    data: fc.json().map((j) => j.replace(/[\r\n]/g, ' ')),
  });

  it('yields every message, whole, however the stream is cut into chunks (generated streams and cuts)', () => {
    fc.assert(fc.property(fc.array(message, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), (messages, cuts, heartbeats) => {
      const text = `retry: 1000\n\n${messages.map((m) => (heartbeats ? ': heartbeat\n\n' : '') + frame(m)).join('')}`;
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const got: SseMessage[] = [];
      const parse = createSseParser((m) => got.push(m));
      let at = 0;
      for (const p of [...points, text.length]) {
        parse(text.slice(at, p));
        at = p;
      }
      expect(got).toEqual(messages.map((m) => ({ event: m.event, data: m.data, id: m.id })));
    }));
  });

  it('joins multi-line data and accepts CRLF line ends', () => {
    const got: SseMessage[] = [];
    createSseParser((m) => got.push(m))('data: a\r\ndata: b\r\n\r\nevent: x\ndata:c\n\n');
    expect(got).toEqual([{ event: 'message', data: 'a\nb', id: undefined }, { event: 'x', data: 'c', id: undefined }]);
  });
});

describe('query strings', () => {
  it('leave out empty values and repeat list parameters', () => {
    expect(query({ service: 'a b', level: ['ERROR', 'WARN'], q: '', endpoint: undefined, limit: 5 })).toBe('?service=a+b&level=ERROR&level=WARN&limit=5');
    expect(query({ q: null })).toBe('');
  });
});
