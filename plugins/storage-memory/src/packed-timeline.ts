import type { ChunkPool } from './chunk-pool';

/** One chunk of a timeline: events as UTF-8 lines ('\n' never occurs in JSON.stringify's output). */
export interface Chunk {
  bytes: Buffer;
  /** Bytes used. */
  end: number;
  /** Events in it. */
  n: number;
}

const NONE: Chunk[] = [];

/**
 * One machine's stored boot events (each one string, see event-log.ts), newest last, kept as UTF-8
 * lines in chunks outside V8's heap from a ChunkPool: a small first chunk, then 4 KiB ones.
 *
 * Why not an array of strings: 10 000 machines × 200 events are two million strings that every
 * scavenge copies twice on their way to the old generation and every major GC visits; bench:http's
 * worst latencies were those GC steps, and storing a string cost 1.0–1.3 µs against 0.3 µs for
 * writing its bytes into a buffer (measured on this project's 2-core VM). A full timeline is here
 * about 8 buffers.
 *
 * Retention drops whole chunks: at least `retention` events are held (a chunk's worth more at most)
 * and every read skips the oldest extras, so a reader sees exactly the newest `retention`.
 */
export class PackedTimeline {
  /** Full chunks, oldest first. */
  private sealed: Chunk[] = [];
  /** Events in `sealed`, and in its oldest chunk. */
  private sealedN = 0;
  private firstN = 0;
  // The chunk being written, in fields of its own: with 10 000 machines in rotation every timeline is
  // cold in the CPU cache when its machine boots again, and each object on the append path is a miss
  // (bench:http: 100 machines in rotation ran 12 % faster than 10 000).
  private cur: Buffer | undefined;
  private curEnd = 0;
  private curN = 0;

  constructor(
    private readonly retention: number,
    private readonly pool: ChunkPool,
  ) {}

  private get held(): number {
    return this.sealedN + this.curN;
  }

  /** Events a reader sees. */
  get size(): number {
    return Math.min(this.held, this.retention);
  }

  get empty(): boolean {
    return this.held === 0;
  }

  /** Add the newest event; returns the chunks retention dropped (kept for undo until given back to the pool). */
  push(packed: string): Chunk[] {
    this.append(packed);
    if (this.sealedN === 0 || this.held - this.firstN < this.retention) return NONE;
    const dropped: Chunk[] = [];
    while (this.sealed.length > 0 && this.held - this.sealed[0].n >= this.retention) {
      const c = this.sealed.shift()!;
      this.sealedN -= c.n;
      dropped.push(c);
    }
    this.firstN = this.sealed.length > 0 ? this.sealed[0].n : 0;
    return dropped;
  }

  /** Write the newest event, dropping nothing. */
  private append(packed: string): void {
    let cur = this.cur;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: the exact length is only needed near the end.
    if (!cur || (this.curEnd + packed.length * 3 + 1 > cur.length && this.curEnd + Buffer.byteLength(packed) + 1 > cur.length)) {
      if (cur) this.seal(cur);
      const size = Buffer.byteLength(packed) + 1;
      // The first chunk is a small one (see ChunkPool); an event larger than a full chunk gets its own buffer.
      cur = this.cur = size <= this.pool.chunkBytes ? this.pool.take(size, this.sealedN === 0 && this.sealed.length === 0) : Buffer.allocUnsafeSlow(size);
    }
    let end = this.curEnd;
    end += cur.write(packed, end, 'utf8');
    cur[end++] = 10;
    this.curEnd = end;
    this.curN++;
  }

  private seal(bytes: Buffer): void {
    this.sealed.push({ bytes, end: this.curEnd, n: this.curN });
    if (this.sealed.length === 1) this.firstN = this.curN;
    this.sealedN += this.curN;
    this.cur = undefined;
    this.curEnd = 0;
    this.curN = 0;
  }

  /** All chunks, oldest first (the one being written last). */
  private all(): Chunk[] {
    return this.cur ? [...this.sealed, { bytes: this.cur, end: this.curEnd, n: this.curN }] : this.sealed;
  }

  /** The retained events, oldest first; stop early by returning false. */
  each(visit: (packed: string) => boolean | void): void {
    let skip = this.held - this.retention;
    for (const c of this.all()) {
      if (skip >= c.n) {
        skip -= c.n;
        continue;
      }
      for (const p of lines(c)) {
        if (skip > 0) skip--;
        else if (visit(p) === false) return;
      }
    }
  }

  /**
   * Take back an event `push` added, restoring the chunks it dropped (a failed write's rollback).
   * Rollbacks run newest first (engine.undo, storage-file's revert), so the event taken back is the
   * newest and the dropped chunks are the oldest. It is the rare path: O(timeline) per event.
   */
  remove(packed: string, dropped: Chunk[]): void {
    const all: string[] = [];
    const held = this.all();
    for (const c of dropped) all.push(...lines(c));
    for (const c of held) all.push(...lines(c));
    const i = all.lastIndexOf(packed);
    if (i >= 0) all.splice(i, 1);
    for (const c of dropped) this.pool.give(c.bytes);
    for (const c of held) this.pool.give(c.bytes);
    this.sealed = [];
    this.sealedN = 0;
    this.firstN = 0;
    this.cur = undefined;
    this.curEnd = 0;
    this.curN = 0;
    // Rebuilt without dropping anything: the chunk boundaries may differ from before, and a drop here
    // could lose an event an older rollback still has to bring back. Readers skip the extras; the
    // next push drops them.
    for (const p of all) this.append(p);
  }
}

function lines(c: Chunk): string[] {
  return c.n === 0 ? [] : c.bytes.toString('utf8', 0, c.end - 1).split('\n');
}
