import path from 'node:path';
import { storeConformance, type StoreHandle } from '@pureboot/core/testing';
import { FileStore, type FileStoreOptions } from '@pureboot/plugin-storage-file';
import { TempDirs } from './support/temp';

const temps = new TempDirs();
after(() => temps.cleanup());

async function handle(o: FileStoreOptions): Promise<StoreHandle> {
  const store = new FileStore(o);
  await store.open();
  return {
    ...store.services,
    close: () => store.close(),
    reopen: async () => {
      await store.close();
      return handle(o);
    },
  };
}

// The default policy (group commit + fdatasync), like a real deployment; offers journaled too, so the
// whole contract (held addresses survive a reopen) is checked. The default (journalOffers: false) is
// covered by journal.test.ts "offer holds".
storeConformance('storage-file (fsync=group)', async (opts) => handle({ dir: path.join(temps.make(), 'storage'), journalOffers: true, ...opts }));

// Compaction on almost every write: the same contract must hold across snapshot switches.
storeConformance('storage-file (fsync=always, compacting every few KiB)', async (opts) => handle({ dir: temps.make(), fsync: 'always', compactBytes: 4096, journalOffers: true, ...opts }));
