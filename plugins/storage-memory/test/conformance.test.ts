import { storeConformance } from '@pureboot/core/testing';
import { createMemoryStores } from '@pureboot/plugin-storage-memory';

storeConformance('storage-memory', async (opts) => {
  const stores = createMemoryStores(opts);
  return { ...stores, close: async () => undefined };
});
