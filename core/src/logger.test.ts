import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, formatLogLine, resolveLogFormat } from './logger.js';

const capture = () => {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
};
const fieldKey = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,10}$/).filter((k) => !['level', 'time', 'msg', 'pid', 'hostname', 'name'].includes(k));

describe('logger', () => {
  it('auto is pretty on a terminal and JSON otherwise; explicit formats win', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('json: one parseable object a line with every field', () => {
    const { lines, stream } = capture();
    createLogger({ format: 'json', stream }).info({ port: 8080 }, 'ready');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'ready', port: 8080, name: 'helios' });
  });

  it('pretty: level, message and every field on one line, whatever the fields hold', () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fieldKey, fc.jsonValue(), { maxKeys: 5 }), (msg, fields) => {
        const { lines, stream } = capture();
        createLogger({ format: 'pretty', stream }).warn(fields, msg);
        const line = lines.join('');
        expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN\b/);
        expect(line.endsWith('\n')).toBe(true);
        expect(line).toContain(msg);
        for (const key of Object.keys(fields)) expect(line).toContain(` ${key}=`);
        expect(() => JSON.parse(line)).toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('pretty: an error shows its message inline and its stack below', () => {
    const text = formatLogLine(JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } }));
    expect(text).toBe('00:00:00.000 ERROR failed err=boom\n    Error: boom\n        at x\n');
  });
});
