// Stand-in for @pureboot/plugin-storage-memory while that package is being written (copied from boot-api test support).
import { asValue } from 'awilix';
import { definePlugin, type BootEventLog, type NodeRecord, type NodeStore, type StoredBootEvent } from '@pureboot/core';

function clone<T>(v: T): T {
  return structuredClone(v);
}

export function memoryNodeStore(): NodeStore {
  const nodes = new Map<string, NodeRecord>();
  return {
    async get(mac) {
      const n = nodes.get(mac);
      return n && clone(n);
    },
    async create(c) {
      const existing = nodes.get(c.mac);
      if (existing) return { ok: false, reason: 'exists', current: clone(existing) };
      const n: NodeRecord = { mac: c.mac, state: c.state, version: 1, arch: c.arch, labels: c.labels ?? {}, profile: c.profile, attributes: c.attributes ?? {}, firstSeen: c.now, lastSeen: c.now, stateSince: c.now, history: [{ from: null, to: c.state, at: c.now, reason: c.reason ?? 'created' }] };
      if (n.arch === undefined) delete n.arch;
      if (n.profile === undefined) delete n.profile;
      nodes.set(c.mac, n);
      return { ok: true, node: clone(n) };
    },
    async update(mac, expected, p) {
      const n = nodes.get(mac);
      if (!n) return { ok: false, reason: 'not-found' };
      if (n.version !== expected) return { ok: false, reason: 'version-conflict', current: clone(n) };
      const next = clone(n);
      if (p.state && p.state !== n.state) {
        next.history.push({ from: n.state, to: p.state, at: p.transition?.at ?? 0, reason: p.transition?.reason ?? '', actor: p.transition?.actor });
        next.state = p.state;
        next.stateSince = p.transition?.at ?? 0;
      }
      if (p.arch !== undefined) next.arch = p.arch;
      if (p.labels) next.labels = { ...p.labels };
      if (p.profile === null) delete next.profile;
      else if (p.profile !== undefined) next.profile = p.profile;
      if (p.attributes) for (const [k, v] of Object.entries(p.attributes)) if (v === null) delete next.attributes[k]; else next.attributes[k] = v;
      if (p.lastSeen !== undefined) next.lastSeen = p.lastSeen;
      next.version++;
      nodes.set(mac, next);
      return { ok: true, node: clone(next) };
    },
    async delete(mac) {
      return nodes.delete(mac);
    },
    async list(q) {
      const all = [...nodes.values()]
        .filter((n) => (!q.state || n.state === q.state) && (!q.arch || n.arch === q.arch) && (!q.profile || n.profile === q.profile) && Object.entries(q.labels ?? {}).every(([k, v]) => n.labels[k] === v))
        .sort((a, b) => a.mac.localeCompare(b.mac));
      const start = q.cursor ? all.findIndex((n) => n.mac > (q.cursor as string)) : 0;
      const limit = q.limit ?? 100;
      const items = start < 0 ? [] : all.slice(start, start + limit);
      return { items: items.map(clone), nextCursor: start >= 0 && start + limit < all.length ? items[items.length - 1].mac : undefined };
    },
  };
}

export function memoryBootEvents(): BootEventLog {
  const events: StoredBootEvent[] = [];
  let seq = 0;
  return {
    async append(e) {
      const s = { ...clone(e), seq: ++seq };
      events.push(s);
      return clone(s);
    },
    async list(mac, o) {
      return events.filter((e) => e.mac === mac && e.seq > (o?.afterSeq ?? 0)).slice(0, o?.limit ?? 1000).map(clone);
    },
  };
}

export default definePlugin({
  name: 'storage-fake',
  core: '^0.1.0',
  register(ctx) {
    ctx.provide('nodeStore', asValue(memoryNodeStore()));
    ctx.provide('bootEvents', asValue(memoryBootEvents()));
  },
});
