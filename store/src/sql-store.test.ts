import { describe, expect, it } from 'vitest';
import { defaultConfig } from '@helios/core';
import { createPgliteClient, createSqlStore, openStore } from './index.js';
import { describeStoreContract } from './store-contract.testkit.js';

describeStoreContract('SQL store on PGlite', async () => createSqlStore(await createPgliteClient()));

describe('openStore', () => {
  it('opens a migrated embedded store by default', async () => {
    const store = await openStore({ ...defaultConfig(), dataDir: ':memory:' });
    expect(store.dialect).toBe('pglite');
    expect(await store.migrate()).toEqual([]);
    await store.close();
  });

  it('refuses kind postgres without a url, naming the key', async () => {
    const config = defaultConfig();
    await expect(openStore({ ...config, store: { ...config.store, kind: 'postgres' } })).rejects.toMatchObject({
      code: 'HLS_ERR_CONFIG_INVALID', message: expect.stringContaining('store.url'),
    });
  });
});
