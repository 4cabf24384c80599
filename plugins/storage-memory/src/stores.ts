import type { BootEventLog, LeaseStore, NodeStore } from '@pureboot/core';
import type { Change, StoreEngine } from './engine';

/** How a backend built on the engine makes changes durable. */
export interface EngineBinding {
  /** Awaited before every call (e.g. the file store opening its journal on first use). */
  ready?: () => Promise<void>;
  /**
   * Make an operation's changes durable. When it rejects, the changes have already been rolled
   * back and the operation's caller gets the rejection.
   */
  persist?: (changes: Change[]) => Promise<void>;
}

export interface EngineStores {
  leaseStore: LeaseStore;
  nodeStore: NodeStore;
  bootEvents: BootEventLog;
}

/** The three contract services over one engine. */
export function engineStores(engine: StoreEngine, binding: EngineBinding = {}): EngineStores {
  const { ready, persist } = binding;
  // Without `ready` (storage-memory) a read is a settled promise of the value: an async function
  // would add its own promise and a microtask to every boot request's machine lookup.
  const read = ready
    ? async <T>(fn: () => T): Promise<T> => {
        await ready();
        return fn();
      }
    : <T>(fn: () => T): Promise<T> => {
        try {
          return Promise.resolve(fn());
        } catch (err) {
          return Promise.reject(err);
        }
      };
  const write = async <T>(fn: () => T): Promise<T> => {
    if (ready) await ready();
    const { value, changes } = engine.run(fn);
    if (persist && changes.length > 0) await persist(changes);
    engine.release(changes);
    return value;
  };
  const L = engine.leases;
  const N = engine.nodes;
  const E = engine.events;
  return {
    leaseStore: {
      allocate: (req) => write(() => L.allocate(req)),
      commit: (req) => write(() => L.commit(req)),
      release: (address, clientId, now) => write(() => L.release(address, clientId, now)),
      decline: (address, clientId, subnetId, until, now) => write(() => L.decline(address, clientId, subnetId, until, now)),
      findByClientId: (subnetId, clientId) => read(() => L.findByClientId(subnetId, clientId)),
      findByMac: (mac) => read(() => L.findByMac(mac)),
      findByAddress: (address) => read(() => L.findByAddress(address)),
      reclaimExpired: (now, limit) => write(() => L.reclaimExpired(now, limit)),
      list: (q) => read(() => L.list(q ?? {})),
    },
    nodeStore: {
      get: (mac) => read(() => N.get(mac)),
      peek: (mac) => read(() => N.peek(mac)),
      create: (c) => write(() => N.create(c)),
      update: (mac, v, p) => write(() => N.update(mac, v, p)),
      delete: (mac) => write(() => N.delete(mac)),
      list: (q) => read(() => N.list(q ?? {})),
    },
    bootEvents: {
      append: (e) => write(() => E.append(e)),
      // One operation: all appended or (a bad event throws, the engine undoes the rest) none.
      appendMany: (es) => write(() => es.map((e) => E.append(e))),
      list: (mac, o) => read(() => E.list(mac, o)),
    },
  };
}
