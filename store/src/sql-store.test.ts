import { createPgliteClient, createSqlStore } from './index.js';
import { describeStoreContract } from './store-contract.testkit.js';

describeStoreContract('SQL store on PGlite', async () => createSqlStore(await createPgliteClient()));
