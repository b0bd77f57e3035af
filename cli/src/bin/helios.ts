#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { isHeliosError, loadConfig } from '@helios/core';
import { COMMANDS } from '../commands/index.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `Usage: helios <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

Options (environment variable in brackets):
  --config <file>     helios.config.yaml|json [HELIOS_CONFIG]; default ./helios.config.{yaml,yml,json} if present
  --port <n>          HTTP port [HELIOS_PORT], default 8080
  --otlp-port <n>     OTLP/HTTP default port [HELIOS_OTLP_PORT], default 4318 (-1: off)
  --otlp-grpc-port <n>  OTLP/gRPC port [HELIOS_OTLP_GRPC_PORT], default 4317 (-1: off)
  --data-dir <dir>    Embedded state (PGlite, reports) [HELIOS_DATA_DIR], default ./.helios
  --json              Machine-readable output where the command has any
  -h, --help          Show this help
`;
}

/** --otlp-port / --otlp-grpc-port: a port, 0 for any free one, -1 for off. */
function optionalPortFlag(text: string | boolean | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (typeof text !== 'string' || !Number.isInteger(port) || port < -1 || port > 65535) throw new Error(`--${flag}: expected an integer from -1 (off) to 65535, got ${JSON.stringify(text)}`);
  return port;
}

function fail(err: unknown): never {
  if (isHeliosError(err)) {
    process.stderr.write(`helios: ${err.code}: ${err.message}\n`);
    for (const d of err.details.slice(1)) process.stderr.write(`  ${d}\n`);
  } else {
    process.stderr.write(`helios: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      'otlp-port': { type: 'string' },
      'otlp-grpc-port': { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const name = positionals[0];
  const command = COMMANDS.find((c) => c.name === name);
  if (name === undefined || name === 'help' || (values['help'] === true && command === undefined)) {
    process.stdout.write(usage());
    return;
  }
  if (command === undefined) {
    process.stderr.write(`helios: unknown command "${name}"\n\n${usage()}`);
    process.exit(2);
  }
  if (values['help'] === true) {
    process.stdout.write(`helios ${command.name}: ${command.summary}\n${command.usage ?? ''}\n`);
    return;
  }
  const portText = values['port'];
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (typeof portText !== 'string' || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected an integer from 0 to 65535, got ${JSON.stringify(portText)}`);
  }
  const otlpPort = optionalPortFlag(values['otlp-port'], 'otlp-port');
  const otlpGrpcPort = optionalPortFlag(values['otlp-grpc-port'], 'otlp-grpc-port');
  const common = new Set(['config', 'port', 'otlp-port', 'otlp-grpc-port', 'data-dir', 'json', 'help']);
  // The command's own arguments, in order: everything after its name except the common flags. With
  // strict: false an unknown `--flag value` arrives as a flag token then a positional one, so order is kept.
  const args: string[] = [];
  let seenName = false;
  for (const t of tokens ?? []) {
    if (t.kind === 'positional') {
      if (!seenName && t.value === name) seenName = true;
      else args.push(t.value);
    } else if (t.kind === 'option' && !common.has(t.name)) {
      args.push(t.inlineValue === true ? `${t.rawName}=${t.value}` : t.rawName);
    }
  }
  const dataDir = values['data-dir'];
  const loaded = loadConfig({ configPath: typeof values['config'] === 'string' ? values['config'] : undefined, overrides: { port, otlpPort, otlpGrpcPort, dataDir: typeof dataDir === 'string' ? dataDir : undefined } });
  await command.run({
    loaded, args, json: values['json'] === true,
    portExplicit: port !== undefined || (process.env['HELIOS_PORT'] ?? '') !== '',
    stdout: (text) => process.stdout.write(text),
  });
}

main(process.argv.slice(2)).catch(fail);
