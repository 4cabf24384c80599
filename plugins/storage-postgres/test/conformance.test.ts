import { storeConformance, type StoreHandle } from '@pureboot/core/testing';
import type { PostgresStores } from '../src/index';
import { dropSchema, openStores, randomSchema, requirePostgres } from './support/pg';

/** The shared storage contract suite, each test on a fresh schema (dropped when its handle closes). */
describe('storage-postgres: contract suite prerequisites', () => {
  it('PostgreSQL is reachable', async function () {
    await requirePostgres(this);
  });
});

storeConformance('storage-postgres', async (opts) => {
  const schema = randomSchema('pb_c');
  const options = { nodeHistoryLimit: opts.historyRetention, bootEventsPerNode: opts.bootEventRetention, poolSize: 8 };
  const handle = (stores: PostgresStores, owner: boolean): StoreHandle => ({
    leaseStore: stores.leaseStore,
    nodeStore: stores.nodeStore,
    bootEvents: stores.bootEvents,
    close: async () => {
      await stores.close();
      if (owner) await dropSchema(schema);
    },
    // a restart: this server's pool goes away, a new one opens the same schema
    reopen: async () => {
      await stores.close();
      const again = openStores(schema, options);
      await again.start();
      return handle(again, owner);
    },
    // a second server on the same database
    peer: async () => {
      const other = openStores(schema, options);
      await other.start();
      return handle(other, false);
    },
  });
  const stores = openStores(schema, options);
  await stores.start();
  return handle(stores, true);
});
