import { bootEventProblem, type StoredBootEvent } from '@pureboot/core';
import { pageLimit } from './cursor';
import { badRequest } from './errors';
import { ChunkPool } from './chunk-pool';
import { PackedTimeline, type Chunk } from './packed-timeline';

/** One appended event, with what retention evicted to make room (for undo). */
export interface EventChange {
  k: 'event';
  ev: StoredBootEvent;
  /** The event as stored (see Packed). */
  packed: Packed;
  /** Chunks of packed events retention dropped to make room (PackedTimeline). */
  evicted: Chunk[];
  prevSeq: number;
}

/**
 * A stored event is one string: the JSON of [seq, at, source, kind, detail] (the MAC is its list's
 * key). A full timeline is 200 events × every machine — two million for 10 000 machines — and as
 * objects (event, detail, its values) V8's major GC had to mark every one of them (a wrk run with 1.6
 * million events held showed a 77 ms p99). A string is one object that marking does not look
 * into, and a copy by construction; PackedTimeline keeps its bytes outside the heap. Reads parse it back.
 */
type Packed = string;

function pack(ev: StoredBootEvent): Packed {
  return JSON.stringify([ev.seq, ev.at, ev.source, ev.kind, ev.detail]);
}

function unpack(mac: string, p: Packed): StoredBootEvent {
  const [seq, at, source, kind, detail] = JSON.parse(p) as [number, number, string, string, Record<string, unknown>];
  return { seq, mac, at, source, kind, detail };
}

const seqOf = (p: Packed): number => Number(p.slice(1, p.indexOf(',')));

/** The boot timeline: per-machine append-only lists, each keeping its newest `retention` events. */
export class EventLog {
  private byMac = new Map<string, PackedTimeline>();
  readonly pool = new ChunkPool();
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
    const out: StoredBootEvent[] = [];
    for (const [mac, list] of this.byMac) list.each((p) => void out.push(unpack(mac, p)));
    return out.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Store an event with its seq (the only mutation path; also used to replay journals). The stored
   * form is serialized here, so later changes to `ev` reach nothing stored; the change handed to the
   * sink carries `ev` itself (storage-file serializes it before the operation returns).
   */
  put(ev: StoredBootEvent): void {
    const packed = pack(ev);
    let list = this.byMac.get(ev.mac);
    if (!list) this.byMac.set(ev.mac, (list = new PackedTimeline(this.retention, this.pool)));
    const evicted = list.push(packed);
    const prevSeq = this.seq;
    this.seq = Math.max(this.seq, ev.seq);
    this.sink({ k: 'event', ev, packed, evicted, prevSeq });
  }

  /** The change can no longer be undone: the chunks it dropped go back to the pool. */
  release(c: EventChange): void {
    for (const chunk of c.evicted) this.pool.give(chunk.bytes);
  }

  undo(c: EventChange): void {
    const list = this.byMac.get(c.ev.mac) ?? new PackedTimeline(this.retention, this.pool);
    list.remove(c.packed, c.evicted);
    if (list.empty) this.byMac.delete(c.ev.mac);
    else this.byMac.set(c.ev.mac, list);
    this.seq = c.prevSeq;
  }

  append(e: Omit<StoredBootEvent, 'seq'>): StoredBootEvent {
    const problem = bootEventProblem(e);
    if (problem) throw badRequest(problem);
    const ev: StoredBootEvent = { seq: this.seq + 1, mac: e.mac, at: e.at, source: e.source, kind: e.kind, detail: e.detail };
    this.put(ev);
    // The stored form is a serialized copy: nothing the caller does to its detail or to the result
    // reaches the store.
    return { seq: ev.seq, mac: ev.mac, at: ev.at, source: ev.source, kind: ev.kind, detail: e.detail };
  }

  list(mac: string, opts: { afterSeq?: number; limit?: number } = {}): StoredBootEvent[] {
    const list = this.byMac.get(mac);
    if (!list) return [];
    const limit = pageLimit(opts.limit, 1000, 1000);
    const after = opts.afterSeq ?? 0;
    const out: StoredBootEvent[] = [];
    list.each((p) => {
      if (seqOf(p) <= after) return true;
      out.push(unpack(mac, p));
      return out.length < limit;
    });
    return out;
  }
}
