import path from 'node:path';
import { asFunction } from 'awilix';
import { definePlugin } from '@pureboot/core';
import { FileStore } from './file-store';
import { optionsSchema, type FileStorageOptions } from './options';

export { FileStore, type FileStoreOptions } from './file-store';
export { FileStorageError, FileStorageErrorCodes } from './errors';
export { scanRecords, encodeRecord, JOURNAL_MAGIC, SNAPSHOT_MAGIC, FILE_HEADER, RECORD_HEADER } from './record-format';
export type { FileStorageOptions, FsyncPolicy } from './options';
export type { FileStoreStats } from './metrics';

declare module '@pureboot/core' {
  interface Services {
    /** The storage-file store behind leaseStore/nodeStore/bootEvents (stats, compact()). */
    fileStore: FileStore;
  }
}

export default definePlugin<FileStorageOptions>({
  name: '@pureboot/plugin-storage-file',
  core: '^0.1.0',
  description: 'Crash-safe file journal storage (the embedded default): leases, machines and boot events in <dataDir>/storage',
  optionsSchema,

  register(ctx) {
    const o = ctx.options;
    const dir = path.resolve(ctx.config.server.dataDir, o.dir);
    ctx.provide(
      'fileStore',
      asFunction(
        ({ logger, metrics }) =>
          new FileStore({
            dir,
            fsync: o.fsync,
            groupCommitMs: o.groupCommitMs,
            compactBytes: o.compactBytes,
            compactIntervalMs: o.compactIntervalMs,
            journalOffers: o.journalOffers,
            historyRetention: o.historyRetention,
            bootEventRetention: o.bootEventRetention,
            logger: logger.child({ plugin: 'storage-file' }),
            metrics,
          }),
      )
        .singleton()
        .disposer((s) => s.close()),
    );
    ctx.provide('leaseStore', asFunction(({ fileStore }) => fileStore.services.leaseStore).singleton());
    ctx.provide('nodeStore', asFunction(({ fileStore }) => fileStore.services.nodeStore).singleton());
    ctx.provide('bootEvents', asFunction(({ fileStore }) => fileStore.services.bootEvents).singleton());
  },

  apply(ctx) {
    // Open (lock + load) at start so a locked or damaged folder stops PureBoot with a clear error
    // before any socket opens; the stores would otherwise open on first use.
    ctx.onStart(() => ctx.services.fileStore.open());
    ctx.onStop(() => ctx.services.fileStore.close());
  },
});
