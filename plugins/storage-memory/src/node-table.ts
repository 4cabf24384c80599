import { NODE_STATES, type NodeCreate, type NodeCreateResult, type NodeListQuery, type NodePage, type NodePatch, type NodeRecord, type NodeState, type NodeUpdateResult } from '@pureboot/core';
import { decodeCursor, encodeCursor, pageLimit, upperBound } from './cursor';
import { badRequest } from './errors';
import { deepCopy, deepFreeze } from './copy';

/** One machine write: `after` undefined means deleted. */
export interface NodeChange {
  k: 'node';
  mac: string;
  after: NodeRecord | undefined;
  before: NodeRecord | undefined;
}

const clone = deepCopy;

function checkState(s: unknown): asserts s is NodeState {
  if (!NODE_STATES.includes(s as NodeState)) throw badRequest(`unknown node state ${String(s)} (one of ${NODE_STATES.join(', ')})`);
}

function checkMac(mac: unknown): asserts mac is string {
  if (typeof mac !== 'string' || mac.length === 0) throw badRequest('mac must be a non-empty string');
}

function checkTime(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${name} must be an epoch-ms number, got ${String(v)}`);
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Machines by MAC with compare-and-set versions; the history keeps the last `historyRetention` transitions. */
export class NodeTable {
  private nodes = new Map<string, NodeRecord>();
  private sorted: string[] | null = null;

  constructor(
    private readonly sink: (c: NodeChange) => void,
    private readonly historyRetention: number,
  ) {}

  get size(): number {
    return this.nodes.size;
  }

  all(): IterableIterator<NodeRecord> {
    return this.nodes.values();
  }

  /** Write or delete a record (the only mutation path; also used to replay journals). */
  put(mac: string, after: NodeRecord | undefined): void {
    const before = this.nodes.get(mac);
    // Stored records are never changed in place (updates store a new one): frozen, `peek` can hand
    // them out without a copy.
    if (after) this.nodes.set(mac, deepFreeze(after));
    else this.nodes.delete(mac);
    if (!before !== !after) this.sorted = null;
    this.sink({ k: 'node', mac, after, before });
  }

  undo(c: NodeChange): void {
    if (c.before) this.nodes.set(c.mac, c.before);
    else this.nodes.delete(c.mac);
    if (!c.before !== !c.after) this.sorted = null;
  }

  /** The stored (frozen) record itself: no copy. */
  peek(mac: string): Readonly<NodeRecord> | undefined {
    return this.nodes.get(mac);
  }

  get(mac: string): NodeRecord | undefined {
    const n = this.nodes.get(mac);
    return n && copyNode(n);
  }

  create(c: NodeCreate): NodeCreateResult {
    checkMac(c.mac);
    checkState(c.state);
    checkTime('now', c.now);
    if (c.labels !== undefined && !isPlainObject(c.labels)) throw badRequest('labels must be an object');
    if (c.attributes !== undefined && !isPlainObject(c.attributes)) throw badRequest('attributes must be an object');
    const existing = this.nodes.get(c.mac);
    if (existing) return { ok: false, reason: 'exists', current: clone(existing) };
    const n: NodeRecord = {
      mac: c.mac,
      state: c.state,
      version: 1,
      labels: clone(c.labels ?? {}),
      attributes: clone(c.attributes ?? {}),
      firstSeen: c.now,
      lastSeen: c.now,
      stateSince: c.now,
      history: [{ from: null, to: c.state, at: c.now, reason: c.reason ?? 'created' }],
    };
    if (c.arch !== undefined) n.arch = c.arch;
    if (c.profile !== undefined) n.profile = c.profile;
    this.put(c.mac, n);
    return { ok: true, node: clone(n) };
  }

  update(mac: string, expectedVersion: number, p: NodePatch): NodeUpdateResult {
    checkMac(mac);
    if (typeof p !== 'object' || p === null) throw badRequest('patch must be an object');
    const n = this.nodes.get(mac);
    if (!n) return { ok: false, reason: 'not-found' };
    if (n.version !== expectedVersion) return { ok: false, reason: 'version-conflict', current: clone(n) };
    const next = clone(n);
    if (p.state !== undefined) {
      checkState(p.state);
      if (p.state !== n.state) {
        const t = p.transition;
        if (!t || typeof t.reason !== 'string') throw badRequest(`changing ${mac} from ${n.state} to ${p.state} needs a transition (reason, at)`);
        checkTime('transition.at', t.at);
        const entry: NodeRecord['history'][number] = { from: n.state, to: p.state, at: t.at, reason: t.reason };
        if (t.actor !== undefined) entry.actor = t.actor;
        next.history.push(entry);
        if (next.history.length > this.historyRetention) next.history.splice(0, next.history.length - this.historyRetention);
        next.state = p.state;
        next.stateSince = t.at;
      }
    }
    if (p.arch !== undefined) next.arch = p.arch;
    if (p.labels !== undefined) {
      if (!isPlainObject(p.labels)) throw badRequest('labels must be an object');
      next.labels = clone(p.labels);
    }
    if (p.profile === null) delete next.profile;
    else if (p.profile !== undefined) next.profile = p.profile;
    if (p.attributes !== undefined) {
      if (!isPlainObject(p.attributes)) throw badRequest('attributes must be an object');
      for (const [k, v] of Object.entries(p.attributes)) {
        if (v === null) delete next.attributes[k];
        else if (v !== undefined) next.attributes[k] = clone(v);
      }
    }
    if (p.lastSeen !== undefined) {
      checkTime('lastSeen', p.lastSeen);
      next.lastSeen = p.lastSeen;
    }
    next.version = n.version + 1;
    this.put(mac, next);
    return { ok: true, node: clone(next) };
  }

  delete(mac: string): boolean {
    if (!this.nodes.has(mac)) return false;
    this.put(mac, undefined);
    return true;
  }

  list(q: NodeListQuery): NodePage {
    if (q.state !== undefined) checkState(q.state);
    const limit = pageLimit(q.limit, 100, 1000);
    const sorted = (this.sorted ??= [...this.nodes.keys()].sort());
    let i = q.cursor !== undefined ? upperBound(sorted, decodeCursor('node', q.cursor)) : 0;
    const items: NodeRecord[] = [];
    const labels = Object.entries(q.labels ?? {});
    for (; i < sorted.length; i++) {
      const n = this.nodes.get(sorted[i]) as NodeRecord;
      if (q.state !== undefined && n.state !== q.state) continue;
      if (q.arch !== undefined && n.arch !== q.arch) continue;
      if (q.profile !== undefined && n.profile !== q.profile) continue;
      if (!labels.every(([k, v]) => n.labels[k] === v)) continue;
      if (items.length === limit) return { items, nextCursor: encodeCursor('node', items[items.length - 1].mac) };
      items.push(clone(n));
    }
    return { items };
  }
}

/**
 * A copy of a stored record, by its known shape: a spread of the top level, then each object field
 * (labels, attributes, history entries) spread again when its values are flat, deep-copied when not.
 * Same result as deepCopy for these plain records; deepCopy's generic walk cost a boot request's
 * store read about 1.5 µs.
 */
export function copyNode(n: NodeRecord): NodeRecord {
  const out = { ...n } as Record<string, unknown>;
  for (const k in out) {
    const v = out[k];
    if (v === null || typeof v !== 'object') continue;
    out[k] = Array.isArray(v) ? v.map((e: unknown) => (e !== null && typeof e === 'object' ? copyFlat(e) : e)) : copyFlat(v);
  }
  return out as unknown as NodeRecord;
}

function copyFlat<T extends object>(o: T): T {
  if (Array.isArray(o) || Object.getPrototypeOf(o) !== Object.prototype) return deepCopy(o);
  for (const k in o) {
    const v = o[k];
    if (v !== null && typeof v === 'object') return deepCopy(o);
  }
  return { ...o };
}
