import { openStore } from '@helios/store';
import type { CommandModule } from './command.js';

export const migrate: CommandModule = {
  async run({ loaded, stdout, json }) {
    const store = await openStore(loaded.config);
    await store.close();
    stdout(json ? `${JSON.stringify({ migrated: true, dialect: store.dialect })}\n` : `migrations applied (${store.dialect})\n`);
  },
};
