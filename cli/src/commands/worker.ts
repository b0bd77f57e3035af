import { createLogger } from '@helios/core';
import { parseRoles, startHelios, stopOnSignals, type HeliosRole } from '../app.js';
import { stringsOption, type CommandModule } from './command.js';

const WORKER_ROLES: readonly HeliosRole[] = ['storage', 'detect', 'report'];

export const worker: CommandModule = {
  options: { role: { type: 'string', multiple: true, value: '<storage|detect|report|all>', description: 'Consumer roles to run, comma-separated; default all' } },
  usage: `Needs bus.kind 'kafka'. Each role is one consumer group (helios-storage, helios-detect, helios-report);
  run more worker processes of a role to share its partitions. Serves /metrics and /healthz on --port.`,
  async run({ loaded, values }) {
    const { config } = loaded;
    const roles = parseRoles(stringsOption(values, 'role'), WORKER_ROLES) ?? [...WORKER_ROLES];
    const logger = createLogger({ level: config.log.level, format: config.log.format });
    const app = await startHelios({ config, baseDir: loaded.baseDir, logger, roles });
    logger.info({ roles, port: app.port, bus: config.bus.kind, store: config.store.kind, config: loaded.path ?? '(defaults)' }, `helios worker ready (${roles.join(', ')}); metrics on http://${config.gateway.host}:${app.port}/metrics`);
    stopOnSignals(app, logger);
  },
};
