import type { FileStore } from '@pureboot/plugin-storage-file';

/** Everything a store holds, in a canonical order, for comparisons across reopen/crash. */
export async function dump(store: FileStore, macs: string[] = []) {
  const s = store.services;
  const leases = (await s.leaseStore.list({ limit: 1000 })).items;
  const nodes = (await s.nodeStore.list({ limit: 1000 })).items;
  const events: Record<string, unknown[]> = {};
  for (const m of macs) events[m] = await s.bootEvents.list(m);
  return { leases, nodes, events };
}
