import { createLogger } from '@helios/core';
import { parseRoles, startHelios, stopOnSignals, type HeliosRole } from '../app.js';
import type { Command } from './command.js';

const WORKER_ROLES: readonly HeliosRole[] = ['storage', 'detect', 'report'];

export const worker: Command = {
  name: 'worker',
  summary: 'Run consumer roles only (no gateway) on the Kafka bus: --role storage|detect|report|all',
  usage: `  helios worker --role storage|detect|report|all   (comma-separated for several; default all)
  Needs bus.kind 'kafka'. Each role is one consumer group (helios-storage, helios-detect, helios-report);
  run more worker processes of a role to share its partitions. Serves /metrics and /healthz on --port.`,
  async run({ loaded, args }) {
    const { config } = loaded;
    const roles = parseRoles(args, WORKER_ROLES) ?? [...WORKER_ROLES];
    const logger = createLogger({ level: config.log.level });
    const app = await startHelios({ config, baseDir: loaded.baseDir, logger, roles });
    logger.info({ roles, port: app.port, bus: config.bus.kind, store: config.store.kind, config: loaded.path ?? '(defaults)' }, `helios worker ready (${roles.join(', ')}); metrics on http://${config.gateway.host}:${app.port}/metrics`);
    stopOnSignals(app, logger);
  },
};
