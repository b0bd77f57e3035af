#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger, isHeliosError, loadConfig, type LoadedConfig } from '@helios/core';
import { openStore } from '@helios/store';
import { startHelios } from '../app.js';
import { runDemo } from '../demo.js';

const USAGE = `Usage: helios <command> [options]

Commands:
  up        Run Helios: gateway + storage + detection + reporting in one process
  demo      Start Helios on embedded defaults, send normal traffic and an incident, print the report
  migrate   Apply pending database migrations and exit

Options (environment variable in brackets):
  --config <file>     helios.config.yaml|json [HELIOS_CONFIG]; default ./helios.config.{yaml,yml,json} if present
  --port <n>          HTTP port [HELIOS_PORT], default 8080
  --data-dir <dir>    Embedded state (PGlite, reports) [HELIOS_DATA_DIR], default ./.helios
  -h, --help          Show this help
`;

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
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help === true || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  }
  const loaded: LoadedConfig = loadConfig({ configPath: values.config, overrides: { port, dataDir: values['data-dir'] } });
  const { config } = loaded;

  switch (command) {
    case 'up': {
      const logger = createLogger({ level: config.log.level });
      const app = await startHelios({ config, baseDir: loaded.baseDir, logger });
      logger.info({ port: app.port, otlpPort: app.otlpPort, transport: app.transport, dataDir: config.dataDir, store: app.store.dialect, config: loaded.path ?? '(defaults)' }, `helios ready on http://${config.gateway.host}:${app.port}`);
      let signals = 0;
      const shutdown = (signal: string) => {
        if (++signals > 1) process.exit(1);
        logger.info({ signal }, 'stopping: draining accepted events');
        app.stop().then(() => {
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        }, fail);
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      return;
    }
    case 'demo': {
      const logger = createLogger({ level: process.env['HELIOS_LOG_LEVEL'] === undefined ? 'warn' : config.log.level });
      const print = (line: string) => process.stdout.write(`${line}\n`);
      const result = await runDemo({ config: port === undefined && process.env['HELIOS_PORT'] === undefined ? { ...config, gateway: { ...config.gateway, port: 0 } } : config, baseDir: loaded.baseDir, logger, print });
      print('');
      print(`Incident report: ${result.report.title}`);
      print(`  written to ${result.reportPath ?? '(no file reporter configured)'}`);
      print(`  stored in the database as report ${result.report.id} (${result.anomalies} anomal${result.anomalies === 1 ? 'y' : 'ies'} in total)`);
      print('');
      print(result.report.markdown.split('\n## Root Cause Analysis')[0]!.trim());
      print('');
      return;
    }
    case 'migrate': {
      const store = await openStore(config);
      await store.close();
      process.stdout.write(`migrations applied (${store.dialect})\n`);
      return;
    }
    default:
      process.stderr.write(`helios: unknown command "${command}"\n\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch(fail);
