import { writeSync } from 'node:fs';
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type Logger = PinoLogger;

/** `auto`: human-readable lines when stderr is a terminal, JSON otherwise (files, pipes, log collectors). */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level?: LevelWithSilent | (string & {});
  name?: string;
  format?: LogFormat;
  /** Where lines go; default stderr (stdout stays free for command output such as `--json`). */
  stream?: { write(line: string): void };
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
// Fields every record has, shown in the line's fixed columns or not at all.
const FIXED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * One pino JSON record as a human line: `12:04:05.123 INFO  message key=value …`, an error's stack
 * indented below. Every field of the record is kept, so nothing the JSON says is hidden.
 */
export function formatLogLine(json: string, color = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = Number(record['level']);
  const time = typeof record['time'] === 'number' ? new Date(record['time']).toISOString().slice(11, 23) : '';
  const name = (LEVEL_NAMES[level] ?? String(record['level'])).padEnd(5);
  const paint = (code: string | undefined, text: string) => (color && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text);
  const fields: string[] = [];
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (FIXED.has(key)) continue;
    const err = value as { message?: unknown; stack?: unknown } | null;
    if (typeof err === 'object' && err !== null && typeof err.stack === 'string') {
      fields.push(`${key}=${fieldText(err.message)}`);
      stacks.push(err.stack.split('\n').map((l) => `    ${l}`).join('\n'));
    } else fields.push(`${key}=${fieldText(value)}`);
  }
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  const line = [paint('90', time), paint(LEVEL_COLORS[level], name), msg, ...(fields.length > 0 ? [paint('90', fields.join(' '))] : [])].filter((p) => p !== '').join(' ');
  return `${[line, ...stacks].join('\n')}\n`;
}

export function resolveLogFormat(format: LogFormat | undefined, isTTY = process.stderr.isTTY === true): 'json' | 'pretty' {
  return format === 'json' || format === 'pretty' ? format : isTTY ? 'pretty' : 'json';
}

/** Structured logs on stderr: JSON lines, or human lines on a terminal (`format: auto`, the default). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = resolveLogFormat(options.format ?? 'auto');
  const settings = { level: (options.level ?? 'info') as LevelWithSilent, name: options.name ?? 'helios', base: { pid: process.pid } };
  if (format === 'json') return pino(settings, options.stream ?? pino.destination({ fd: 2, sync: false }));
  const color = options.stream === undefined && process.stderr.isTTY === true && process.env['NO_COLOR'] === undefined;
  // Synchronous on purpose: a person reading a terminal wants each line when it happens, and the volume is small.
  const out = options.stream ?? { write: (text: string) => void writeSync(2, text) };
  return pino(settings, { write: (line: string) => out.write(formatLogLine(line, color)) });
}

/** A logger that drops everything; for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
