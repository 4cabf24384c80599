import { bootEventProblem, type StoredBootEvent } from '@pureboot/core';
import { pageLimit } from './cursor';
import { badRequest } from './errors';
import { ChunkPool } from './chunk-pool';
import { EventReader, encodeEvent } from './event-codec';
import { StringTable } from './string-table';
import { PackedTimeline, type Chunk } from './packed-timeline';

/** One appended event, with what retention evicted to make room (for undo). */
export interface EventChange {
  k: 'event';
  ev: StoredBootEvent;
  /** Chunks of stored events retention dropped to make room (PackedTimeline). */
  evicted: Chunk[];
  prevSeq: number;
}

/**
 * A stored event is a record of bytes (event-codec.ts: seq, at, source, kind, detail; the MAC is its
 * list's key). A full timeline is 200 events × every machine — two million for 10 000 machines — and
 * as objects (event, detail, its values) V8's major GC had to mark every one of them (a wrk run with
 * 1.6 million events held showed a 77 ms p99). Records in PackedTimeline's chunks are outside the
 * heap, and a copy by construction. Reads decode them.
 */
/** The boot timeline: per-machine append-only lists, each keeping its newest `retention` events. */
export class EventLog {
  private byMac = new Map<string, PackedTimeline<StoredBootEvent>>();
  readonly pool = new ChunkPool();
  private seq = 0;
  private readonly names = new StringTable();
  private readonly write = (ev: StoredBootEvent, buf: Buffer, pos: number): number => encodeEvent(ev, buf, pos, this.names);
  private reader: EventReader | undefined;

  /** A reader of the chunk `bytes` (the last one made, while reads stay in its chunk). */
  private readerOf(bytes: Buffer): EventReader {
    if (this.reader?.buf !== bytes) this.reader = new EventReader(bytes, this.names);
    return this.reader;
  }

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
    for (const [mac, list] of this.byMac) list.each((bytes, pos) => void out.push(this.readerOf(bytes).read(mac, pos)));
    return out.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Store an event with its seq (the only mutation path; also used to replay journals). The stored
   * form is written here, so later changes to `ev` reach nothing stored; the change handed to the
   * sink carries `ev` itself (storage-file serializes it before the operation returns).
   */
  put(ev: StoredBootEvent): void {
    const known = this.byMac.get(ev.mac);
    const list = known ?? new PackedTimeline(this.retention, this.pool, this.write);
    // A detail JSON cannot write (a BigInt, a cycle) throws here, before anything is stored.
    const evicted = list.push(ev);
    if (!known) this.byMac.set(ev.mac, list);
    const prevSeq = this.seq;
    this.seq = Math.max(this.seq, ev.seq);
    this.sink({ k: 'event', ev, evicted, prevSeq });
  }

  /** The change can no longer be undone: the chunks it dropped go back to the pool. */
  release(c: EventChange): void {
    for (const chunk of c.evicted) this.pool.give(chunk.bytes);
  }

  undo(c: EventChange): void {
    const list = this.byMac.get(c.ev.mac) ?? new PackedTimeline(this.retention, this.pool, this.write);
    const seq = c.ev.seq;
    list.remove((bytes, pos) => this.readerOf(bytes).seqAt(pos) === seq, c.evicted);
    if (list.empty) this.byMac.delete(c.ev.mac);
    else this.byMac.set(c.ev.mac, list);
    this.seq = c.prevSeq;
  }

  append(e: Omit<StoredBootEvent, 'seq'>): StoredBootEvent {
    const problem = bootEventProblem(e);
    if (problem) throw badRequest(problem);
    const ev: StoredBootEvent = { seq: this.seq + 1, mac: e.mac, at: e.at, source: e.source, kind: e.kind, detail: e.detail };
    this.put(ev);
    // The stored form is a copy (bytes): nothing the caller does to its detail or to the result
    // reaches the store, so the result is `ev` itself (the change the sink got has serialized it,
    // or undone it, before the operation returns).
    return ev;
  }

  list(mac: string, opts: { afterSeq?: number; limit?: number } = {}): StoredBootEvent[] {
    const list = this.byMac.get(mac);
    if (!list) return [];
    const limit = pageLimit(opts.limit, 1000, 1000);
    const after = opts.afterSeq ?? 0;
    const out: StoredBootEvent[] = [];
    list.each((bytes, pos) => {
      const reader = this.readerOf(bytes);
      if (reader.seqAt(pos) <= after) return true;
      out.push(reader.read(mac, pos));
      return out.length < limit;
    });
    return out;
  }
}
