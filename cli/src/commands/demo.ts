import { createLogger } from '@helios/core';
import { runDemo } from '../demo.js';
import type { CommandModule } from './command.js';

export const demo: CommandModule = {
  async run({ loaded, portExplicit, stdout }) {
    const { config } = loaded;
    const logger = createLogger({ level: process.env['HELIOS_LOG_LEVEL'] ?? 'error', format: config.log.format });
    const print = (line: string) => stdout(`${line}\n`);
    // Without an explicit port the demo takes any free one, so it runs next to a Helios already on 8080.
    const result = await runDemo({ config: portExplicit ? config : { ...config, gateway: { ...config.gateway, port: 0 } }, baseDir: loaded.baseDir, logger, print });
    print('');
    print(`Incident report: ${result.report.title}`);
    print(`  written to ${result.reportPath ?? '(no file reporter configured)'}`);
    print(`  stored in the database as report ${result.report.id} (${result.anomalies} anomal${result.anomalies === 1 ? 'y' : 'ies'} in total)`);
    print('');
    print(result.report.markdown.split('\n## Root Cause Analysis')[0]!.trim());
    print('');
  },
};
