import { asValue } from 'awilix';
import { definePlugin } from '@pureboot/core';
import { createMetrics } from './metrics';
import { optionsSchema, type PostgresOptions } from './options';
import { PostgresStores } from './stores';

export { PgErrorCodes, PgStoreError } from './errors';
export { optionsSchema, resolveConnection, withDefaults } from './options';
export type { PostgresOptions } from './options';
export { PostgresStores, createPostgresStores } from './stores';
export type { PostgresStoresDeps } from './stores';
export { MIGRATIONS, SCHEMA_VERSION, migrate } from './migrations';
export { allowedSegments } from './segments';
export { PgLeaseStore } from './lease-store';
export { PgNodeStore } from './node-store';
export { PgBootEventLog } from './boot-events';

const instances = new WeakMap<object, PostgresStores>();

export default definePlugin<PostgresOptions>({
  name: '@pureboot/plugin-storage-postgres',
  core: '^0.1.0',
  description: 'Leases, machines and boot timelines in PostgreSQL, shared by several PureBoot servers',
  optionsSchema,

  register(ctx) {
    const stores = new PostgresStores(ctx.options, { logger: ctx.logger });
    instances.set(ctx.options as object, stores);
    ctx.provide('leaseStore', asValue(stores.leaseStore));
    ctx.provide('nodeStore', asValue(stores.nodeStore));
    ctx.provide('bootEvents', asValue(stores.bootEvents));
  },

  apply(ctx) {
    const stores = instances.get(ctx.options as object) as PostgresStores;
    const metrics = createMetrics(ctx.services.metrics);
    metrics.up.set(0);
    stores.db.setEvents({
      onUnavailable: () => metrics.up.set(0),
      onRecovered: () => metrics.up.set(1),
      onError: (code) => metrics.errors.inc({ code }),
    });
    stores.setClock(ctx.services.clock);
    ctx.onStart(async () => {
      await stores.start();
      metrics.up.set(1);
      if (stores.appliedMigrations.length > 0) ctx.logger.info({ versions: stores.appliedMigrations, schema: stores.options.schema }, 'PostgreSQL schema migrated');
      ctx.logger.info({ endpoint: stores.db.endpoint, schema: stores.options.schema }, 'PostgreSQL store ready');
      stores.startPruning();
    });
    ctx.onStop(() => stores.close());
  },
});
