#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import type { ConfigSources, LoadedConfig } from '@helios/core';
import { HeliosError, isHeliosError } from '@helios/core/errors';
import { COMMON_OPTIONS, optionsHelp, parseCommandLine, parsePortFlag, stringOption, type Command } from '../commands/command.js';
import { COMMANDS, loadCommand } from '../commands/index.js';

// cli/package.json: the same relative place from src/bin and dist/bin.
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `Usage: helios <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

Options (environment variable in brackets):
${optionsHelp(COMMON_OPTIONS)}

helios <command> --help shows a command's own options.
`;
}

function commandHelp(command: Command): string {
  const own = command.options !== undefined && Object.keys(command.options).length > 0;
  return [
    `helios ${command.name}: ${command.summary}`,
    '',
    `Usage: helios ${command.name}${command.positionals === undefined ? '' : ` ${command.positionals}`}${own ? ' [options]' : ''}`,
    ...(own ? ['', 'Options:', optionsHelp(command.options!)] : []),
    '',
    'Common options:',
    optionsHelp(COMMON_OPTIONS),
    ...(command.usage === undefined ? [] : ['', command.usage]),
    '',
  ].join('\n');
}

function fail(err: unknown): never {
  if (isHeliosError(err)) {
    process.stderr.write(`helios: ${err.code}: ${err.message}\n`);
    for (const d of err.details.slice(1)) process.stderr.write(`  ${d}\n`);
  } else {
    process.stderr.write(`helios: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(isHeliosError(err, 'HLS_ERR_USAGE') ? 2 : 1);
}

/** Index of the command name: the first argument that is neither a flag nor the value of a common flag. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!arg.startsWith('-')) return i;
    const name = arg.replace(/^--?/, '');
    if (COMMON_OPTIONS[name]?.type === 'string') i++;
  }
  return -1;
}

async function main(argv: string[]): Promise<void> {
  const at = commandIndex(argv);
  const name = at < 0 ? undefined : argv[at];
  const entry = COMMANDS.find((c) => c.name === name);
  if (name !== undefined && name !== 'help' && entry === undefined) {
    throw new HeliosError('HLS_ERR_USAGE', `unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(', ')} (helios --help)`);
  }
  // Only the named command's module is imported: --version and --help load none (see commands/index.ts).
  const command = entry === undefined ? undefined : await loadCommand(entry);
  // Without a command only the common flags are allowed: parse against a command that has no others.
  const parsed = parseCommandLine(command ?? { name: '', summary: '', run: async () => undefined }, at < 0 ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)]);
  const { values } = parsed;
  if (values['version'] === true) {
    process.stdout.write(`helios ${VERSION}\n`);
    return;
  }
  if (command === undefined) {
    process.stdout.write(usage());
    return;
  }
  if (values['help'] === true) {
    process.stdout.write(commandHelp(command));
    return;
  }
  const port = parsePortFlag(stringOption(values, 'port'));
  const configPath = stringOption(values, 'config');
  const dataDir = stringOption(values, 'data-dir');
  const otlpPort = parsePortFlag(stringOption(values, 'otlp-port'), 'otlp-port', -1);
  const otlpGrpcPort = parsePortFlag(stringOption(values, 'otlp-grpc-port'), 'otlp-grpc-port', -1);
  const configSources: ConfigSources = { configPath, overrides: { port, otlpPort, otlpGrpcPort, dataDir } };
  // @helios/core in full (schemas, config) only once a command runs: --version and --help stay fast.
  const { loadConfig } = await import('@helios/core');
  let loaded: LoadedConfig | undefined;
  await command.run({
    configSources,
    // Loaded on first use: `validate` loads it itself, to report every problem instead of failing here.
    get loaded() {
      return (loaded ??= loadConfig(configSources));
    },
    values, positionals: parsed.positionals, json: values['json'] === true,
    portExplicit: port !== undefined || (process.env['HELIOS_PORT'] ?? '') !== '',
    stdout: (text) => process.stdout.write(text),
  });
}

main(process.argv.slice(2)).catch(fail);
