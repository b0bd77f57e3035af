import { describe, expect, it } from 'vitest';
import { liveCounter } from './live-counter.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } as unknown as NodeJS.WriteStream };
}

describe('liveCounter', () => {
  it('rewrites one line in place on a terminal and ends it with a newline once', () => {
    const { writes, stream } = fakeStream(true);
    const live = liveCounter(stream);
    live.update('1 s');
    live.update('2 s');
    live.done();
    live.done();
    expect(writes).toEqual(['\r\u001b[2K1 s', '\r\u001b[2K2 s', '\n']);
  });

  it('writes whole lines at most once per interval elsewhere (CI logs, pipes)', () => {
    const { writes, stream } = fakeStream(false);
    const live = liveCounter(stream, { everyMs: 60_000 });
    live.update('1 s');
    live.update('2 s');
    live.done();
    live.update('3 s');
    expect(writes).toEqual(['1 s\n']);
  });
});
