import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type Logger = PinoLogger;

/** Structured JSON logs on stderr (stdout stays free for command output such as `--json`). */
export function createLogger(options: { level?: LevelWithSilent | (string & {}); name?: string } = {}): Logger {
  return pino({ level: (options.level ?? "info") as LevelWithSilent, name: options.name ?? 'helios', base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything; for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
