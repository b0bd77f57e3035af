import { parseArgs } from 'node:util';
import type { ConfigSources, LoadedConfig } from '@helios/core';
// The errors alone, not the package: the CLI's start (--version, --help) loads no schema, logger or metrics.
import { HeliosError } from '@helios/core/errors';

/** One flag of a command: what `parseArgs` needs plus what help prints. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once; the values arrive as an array. */
  multiple?: boolean;
  /** Placeholder of the value in help, e.g. `<file>`. */
  value?: string;
  description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Parsed flag values: a string, a boolean, a string[] for `multiple`, or undefined when absent. */
export type OptionValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** What every command gets: the layered config, its own parsed flags and positionals. */
export interface CommandContext {
  /** The layered configuration, loaded (and validated) on first read. */
  readonly loaded: LoadedConfig;
  /** Where it comes from (--config, --port, --data-dir), for a command that loads it itself. */
  configSources: ConfigSources;
  /** The command's flags (the common ones too), already checked against its OptionSpecs. */
  values: OptionValues;
  /** Arguments after the command name that are not flags. */
  positionals: string[];
  /** True when --json was given: print machine-readable output on stdout. */
  json: boolean;
  /** Whether --port was given explicitly (flag or HELIOS_PORT). */
  portExplicit: boolean;
  stdout: (text: string) => void;
}

export interface Command {
  name: string;
  /** One line for `helios --help`. */
  summary: string;
  /** The command's own flags; anything else is refused with HLS_ERR_USAGE naming these. */
  options?: OptionSpecs;
  /** Positional arguments it takes, as shown in help (e.g. `new <name>`); none when absent. */
  positionals?: string;
  /** Extra text for `helios <name> --help`. */
  usage?: string;
  /** Resolves when the command is done; `up` resolves once started and keeps the process alive. */
  run(ctx: CommandContext): Promise<void>;
}

/** What a command's module exports: all but the name and summary, which the table in index.ts holds. */
export type CommandModule = Omit<Command, 'name' | 'summary'>;

/** Flags every command takes. */
export const COMMON_OPTIONS: OptionSpecs = {
  config: { type: 'string', value: '<file>', description: 'helios.config.yaml|json [HELIOS_CONFIG]; default ./helios.config.{yaml,yml,json} if present' },
  port: { type: 'string', value: '<n>', description: 'HTTP port, 0 to 65535 [HELIOS_PORT]; default 8080' },
  'otlp-port': { type: 'string', value: '<n>', description: 'OTLP/HTTP port, -1 (off) to 65535 [HELIOS_OTLP_PORT]; default 4318' },
  'otlp-grpc-port': { type: 'string', value: '<n>', description: 'OTLP/gRPC port, -1 (off) to 65535 [HELIOS_OTLP_GRPC_PORT]; default 4317' },
  'data-dir': { type: 'string', value: '<dir>', description: 'Embedded state (PGlite, reports) [HELIOS_DATA_DIR]; default ./.helios' },
  json: { type: 'boolean', description: 'Machine-readable output where the command has any' },
  help: { type: 'boolean', short: 'h', description: 'Show help (for a command: helios <command> --help)' },
  version: { type: 'boolean', short: 'v', description: 'Print the version of helios and exit' },
};

/** Help lines for a set of flags, aligned. */
export function optionsHelp(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => [`${s.short === undefined ? '    ' : `-${s.short}, `}--${name}${s.value === undefined ? '' : ` ${s.value}`}${s.multiple === true ? ' ...' : ''}`, s.description] as const);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`).join('\n');
}

export function flagList(specs: OptionSpecs): string {
  return Object.entries(specs).map(([name, s]) => (s.short === undefined ? `--${name}` : `--${name} (-${s.short})`)).join(', ');
}

/**
 * `parseArgs` for one command, strict: an unknown flag, a missing value or a stray positional is
 * HLS_ERR_USAGE naming the command and the flags it takes.
 */
export function parseCommandLine(command: Command, args: string[]): { values: OptionValues; positionals: string[] } {
  const specs: OptionSpecs = { ...command.options, ...COMMON_OPTIONS };
  const options = Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { type: s.type, ...(s.short === undefined ? {} : { short: s.short }), ...(s.multiple === true ? { multiple: true } : {}) }]));
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: command.positionals !== undefined });
    return { values: values as OptionValues, positionals };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const label = command.name === '' ? 'helios' : `helios ${command.name}`;
    const allowed = `allowed: ${flagList(specs)}`;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec((err as Error).message)?.[1] ?? '?';
      throw new HeliosError('HLS_ERR_USAGE', `${label}: unknown option ${flag}; ${allowed}`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new HeliosError('HLS_ERR_USAGE', `${label}: unexpected argument ${JSON.stringify(/'([^']+)'/.exec((err as Error).message)?.[1] ?? '')}; it takes no positional arguments`);
    }
    throw new HeliosError('HLS_ERR_USAGE', `${label}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** A flag's value as a string, or undefined when absent. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function stringsOption(values: OptionValues, name: string): string[] | undefined {
  const v = values[name];
  return Array.isArray(v) ? v : undefined;
}

/**
 * `--port` (0 to 65535) or an OTLP port flag (`min` -1: off), else HLS_ERR_USAGE naming the flag and the
 * value (not a stack trace).
 */
export function parsePortFlag(text: string | undefined, flag = 'port', min = 0): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < min || port > 65535) throw new HeliosError('HLS_ERR_USAGE', `--${flag}: expected an integer from ${min} to 65535, got ${JSON.stringify(text)}`);
  return port;
}
