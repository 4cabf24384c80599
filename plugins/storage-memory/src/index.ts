import { asValue } from 'awilix';
import { definePlugin } from '@pureboot/core';
import { DEFAULT_ENGINE_OPTIONS, StoreEngine } from './engine';
import { optionsSchema, type MemoryStorageOptions } from './options';
import { engineStores } from './stores';

export { StoreEngine, DEFAULT_ENGINE_OPTIONS, type Change, type Redo, type EngineSnapshot, type EngineOptions } from './engine';
export { engineStores, type EngineBinding, type EngineStores } from './stores';
export { LeaseTable, isActive, isQuarantined, type LeaseChange } from './lease-table';
export { NodeTable, type NodeChange } from './node-table';
export { EventLog, type EventChange } from './event-log';
export { StorageError, StorageErrorCodes } from './errors';
export { retentionSchemaProperties, type MemoryStorageOptions } from './options';

/** Fresh in-memory stores (tests, throwaway runs): nothing survives the process. */
export function createMemoryStores(options: Partial<MemoryStorageOptions> = {}) {
  const engine = new StoreEngine({ historyRetention: options.historyRetention ?? DEFAULT_ENGINE_OPTIONS.historyRetention, bootEventRetention: options.bootEventRetention ?? DEFAULT_ENGINE_OPTIONS.bootEventRetention });
  return { engine, ...engineStores(engine) };
}

export default definePlugin<MemoryStorageOptions>({
  name: '@pureboot/plugin-storage-memory',
  core: '^0.1.0',
  description: 'In-memory leaseStore, nodeStore and bootEvents for tests and throwaway runs (nothing is kept across restarts)',
  optionsSchema,
  register(ctx) {
    const stores = createMemoryStores(ctx.options);
    ctx.provide('leaseStore', asValue(stores.leaseStore));
    ctx.provide('nodeStore', asValue(stores.nodeStore));
    ctx.provide('bootEvents', asValue(stores.bootEvents));
    ctx.logger.debug('in-memory storage: leases, machines and boot events are lost when PureBoot stops');
  },
});
