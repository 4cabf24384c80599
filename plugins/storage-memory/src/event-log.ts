import type { StoredBootEvent } from '@pureboot/core';
import { pageLimit } from './cursor';
import { badRequest } from './errors';
import { deepCopy } from './copy';

/** One appended event, with what retention evicted to make room (for undo). */
export interface EventChange {
  k: 'event';
  ev: StoredBootEvent;
  evicted: StoredBootEvent[];
  prevSeq: number;
}

const clone = deepCopy;

/** The boot timeline: per-machine append-only lists, each keeping its newest `retention` events. */
export class EventLog {
  private byMac = new Map<string, StoredBootEvent[]>();
  private seq = 0;

  constructor(
    private readonly sink: (c: EventChange) => void,
    private readonly retention: number,
  ) {}

  get lastSeq(): number {
    return this.seq;
  }

  /** Never hand out a seq at or below `seq` again (events evicted before a snapshot keep their numbers). */
  raiseSeq(seq: number): void {
    this.seq = Math.max(this.seq, seq);
  }

  all(): StoredBootEvent[] {
    return [...this.byMac.values()].flat().sort((a, b) => a.seq - b.seq);
  }

  /** Store an event with its seq (the only mutation path; also used to replay journals). */
  put(ev: StoredBootEvent): void {
    let list = this.byMac.get(ev.mac);
    if (!list) this.byMac.set(ev.mac, (list = []));
    list.push(ev);
    const evicted = list.length > this.retention ? list.splice(0, list.length - this.retention) : [];
    const prevSeq = this.seq;
    this.seq = Math.max(this.seq, ev.seq);
    this.sink({ k: 'event', ev, evicted, prevSeq });
  }

  undo(c: EventChange): void {
    const list = this.byMac.get(c.ev.mac) ?? [];
    const i = list.lastIndexOf(c.ev);
    if (i >= 0) list.splice(i, 1);
    list.unshift(...c.evicted);
    if (list.length === 0) this.byMac.delete(c.ev.mac);
    else this.byMac.set(c.ev.mac, list);
    this.seq = c.prevSeq;
  }

  append(e: Omit<StoredBootEvent, 'seq'>): StoredBootEvent {
    if (!e || typeof e.mac !== 'string' || e.mac.length === 0) throw badRequest('boot event mac must be a non-empty string');
    if (typeof e.at !== 'number' || !Number.isFinite(e.at)) throw badRequest('boot event at must be an epoch-ms number');
    if (typeof e.kind !== 'string' || typeof e.source !== 'string') throw badRequest('boot event kind and source must be strings');
    if (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail)) throw badRequest('boot event detail must be an object');
    const ev: StoredBootEvent = { seq: this.seq + 1, mac: e.mac, at: e.at, source: e.source, kind: e.kind, detail: clone(e.detail) };
    this.put(ev);
    // The caller's own detail goes back (the stored one is the copy): nothing it does to the result
    // reaches the store, and the boot path (one event per script request) saves a second deep copy.
    return { seq: ev.seq, mac: ev.mac, at: ev.at, source: ev.source, kind: ev.kind, detail: e.detail };
  }

  list(mac: string, opts: { afterSeq?: number; limit?: number } = {}): StoredBootEvent[] {
    const list = this.byMac.get(mac);
    if (!list) return [];
    const limit = pageLimit(opts.limit, 1000, 1000);
    const after = opts.afterSeq ?? 0;
    const out: StoredBootEvent[] = [];
    for (const ev of list) {
      if (ev.seq <= after) continue;
      out.push(clone(ev));
      if (out.length === limit) break;
    }
    return out;
  }
}
