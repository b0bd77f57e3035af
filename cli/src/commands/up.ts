import { createLogger } from '@helios/core';
import { startHelios } from '../app.js';
import type { Command } from './command.js';

export const up: Command = {
  name: 'up',
  summary: 'Run Helios: gateway + storage + detection + reporting in one process',
  async run({ loaded }) {
    const { config } = loaded;
    const logger = createLogger({ level: config.log.level });
    const app = await startHelios({ config, baseDir: loaded.baseDir, logger });
    logger.info({ port: app.port, otlpPort: app.otlpPort, transport: app.transport, dataDir: config.dataDir, store: app.store.dialect, config: loaded.path ?? '(defaults)' }, `helios ready on http://${config.gateway.host}:${app.port}`);
    let signals = 0;
    const shutdown = (signal: string) => {
      if (++signals > 1) process.exit(1); // a second signal means: stop now
      logger.info({ signal }, 'stopping: draining accepted events');
      app.stop().then(
        () => {
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          logger.flush();
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  },
};
