import { createLogger } from '@helios/core';
import { HELIOS_ROLES, parseRoles, startHelios, stopOnSignals } from '../app.js';
import { stringsOption, type CommandModule } from './command.js';

export const up: CommandModule = {
  options: {
    role: { type: 'string', multiple: true, value: '<gateway|storage|detect|report|all>', description: "Roles to run, comma-separated; default all. --role gateway: only the HTTP gateway, publishing to Kafka (bus.kind 'kafka'); run workers with `helios worker`" },
  },
  async run({ loaded, values }) {
    const { config } = loaded;
    const roles = parseRoles(stringsOption(values, 'role'), HELIOS_ROLES) ?? [...HELIOS_ROLES];
    const logger = createLogger({ level: config.log.level, format: config.log.format });
    const app = await startHelios({ config, baseDir: loaded.baseDir, logger, roles });
    logger.info({ roles, port: app.port, otlpPort: app.otlpPort, otlpGrpcPort: app.otlpGrpcPort, transport: app.transport, dataDir: config.dataDir, bus: config.bus.kind, store: config.store.kind, config: loaded.path ?? '(defaults)' }, `helios ready on http://${config.gateway.host}:${app.port}`);
    stopOnSignals(app, logger);
  },
};
