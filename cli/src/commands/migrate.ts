import { openStore } from '@helios/store';
import type { Command } from './command.js';

export const migrate: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations and exit (safe to run concurrently)',
  async run({ loaded, stdout, json }) {
    const store = await openStore(loaded.config);
    await store.close();
    stdout(json ? `${JSON.stringify({ migrated: true, dialect: store.dialect })}\n` : `migrations applied (${store.dialect})\n`);
  },
};
