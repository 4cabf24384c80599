import type { ChunkPool } from './chunk-pool';

/** One chunk of a timeline: records, each a u32 (LE) byte length and the bytes its writer wrote. */
export interface Chunk {
  bytes: Buffer;
  /** Bytes used. */
  end: number;
  /** Records in it. */
  n: number;
}

/**
 * Writes one record's bytes into `buf` from `pos` and returns where they end. A record that does not
 * fit returns an end past `buf.length` (what it wrote there is ignored), and is tried again in a
 * fresh chunk. event-codec.ts's `encodeEvent` is the boot events' writer.
 */
export type RecordWriter<T> = (value: T, buf: Buffer, pos: number) => number;

const NONE: Chunk[] = [];

/** A record already written once (its copy, with the length in front), written again (a rollback's rebuild). */
const copyRecord: RecordWriter<Buffer> = (rec, buf, pos) => {
  const end = pos + rec.length - 4;
  if (end <= buf.length) rec.copy(buf, pos, 4);
  return end;
};

/**
 * One machine's stored boot events, newest last, kept as records in chunks outside V8's heap from
 * a ChunkPool: a small first chunk, then 4 KiB ones.
 *
 * Why not an array of strings: 10 000 machines × 200 events are two million strings that every
 * scavenge copies twice on their way to the old generation and every major GC visits; bench:http's
 * worst latencies were those GC steps, and storing a string cost 1.0–1.3 µs against 0.3 µs for
 * writing its bytes into a buffer (measured on this project's 2-core VM). A full timeline is here
 * about 8 buffers. The records are written in place by the writer (no string in between).
 *
 * Retention drops whole chunks: at least `retention` records are held (a chunk's worth more at most)
 * and every read skips the oldest extras, so a reader sees exactly the newest `retention`.
 */
export class PackedTimeline<T> {
  /** Full chunks, oldest first. */
  private sealed: Chunk[] = [];
  /** Records in `sealed`, and in its oldest chunk. */
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
    private readonly write: RecordWriter<T>,
  ) {}

  private get held(): number {
    return this.sealedN + this.curN;
  }

  /** Records a reader sees. */
  get size(): number {
    return Math.min(this.held, this.retention);
  }

  get empty(): boolean {
    return this.held === 0;
  }

  /** Add the newest record; returns the chunks retention dropped (kept for undo until given back to the pool). */
  push(value: T): Chunk[] {
    this.append(value, this.write);
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

  /** Write the newest record, dropping nothing: in the current chunk, else a fresh one. */
  private append<V>(value: V, write: RecordWriter<V>): void {
    const cur = this.cur;
    if (cur) {
      const end = write(value, cur, this.curEnd + 4);
      if (end <= cur.length) return this.commit(cur, end);
      this.seal(cur);
    }
    // A timeline's first chunk is a small one (see ChunkPool), if the record fits.
    if (this.sealed.length === 0 && this.pool.smallBytes < this.pool.chunkBytes && this.tryFresh(value, write, this.pool.take(0, true))) return;
    if (this.tryFresh(value, write, this.pool.take(this.pool.chunkBytes, false))) return;
    // Larger than a chunk (rare): written into a buffer that grows until it fits, then one of its size.
    let scratch = Buffer.allocUnsafeSlow(4 * this.pool.chunkBytes);
    let end: number;
    while ((end = write(value, scratch, 4)) > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(end, 2 * scratch.length));
    const own = Buffer.allocUnsafeSlow(end);
    scratch.copy(own, 0, 0, end);
    this.cur = own;
    this.commit(own, end);
  }

  /** The record in a chunk from the pool, which goes back unless the record fits (or the writer throws). */
  private tryFresh<V>(value: V, write: RecordWriter<V>, chunk: Buffer): boolean {
    let end: number;
    try {
      end = write(value, chunk, 4);
    } catch (err) {
      this.pool.give(chunk);
      throw err;
    }
    if (end > chunk.length) {
      this.pool.give(chunk);
      return false;
    }
    this.cur = chunk;
    this.commit(chunk, end);
    return true;
  }

  private commit(chunk: Buffer, end: number): void {
    const len = end - this.curEnd - 4;
    const at = this.curEnd;
    chunk[at] = len;
    chunk[at + 1] = len >> 8;
    chunk[at + 2] = len >> 16;
    chunk[at + 3] = len >>> 24;
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

  /**
   * The retained records, oldest first, each as its chunk and where its bytes start (their length is
   * the u32 LE before them); stop early by returning false.
   */
  each(visit: (bytes: Buffer, pos: number) => boolean | void): void {
    let skip = this.held - this.retention;
    for (const c of this.all()) {
      if (skip >= c.n) {
        skip -= c.n;
        continue;
      }
      for (let pos = 0; pos < c.end; pos += 4 + c.bytes.readUInt32LE(pos)) {
        if (skip > 0) skip--;
        else if (visit(c.bytes, pos + 4) === false) return;
      }
    }
  }

  /**
   * Take back a record `push` added (the newest for which `isIt` holds), restoring the chunks it
   * dropped (a failed write's rollback). Rollbacks run newest first (engine.undo, storage-file's
   * revert), so the record taken back is the newest and the dropped chunks are the oldest. It is the
   * rare path: O(timeline) per record.
   */
  remove(isIt: (bytes: Buffer, pos: number) => boolean, dropped: Chunk[]): void {
    const all: Buffer[] = [];
    const held = this.all();
    for (const c of [...dropped, ...held]) {
      for (let pos = 0; pos < c.end; pos += 4 + c.bytes.readUInt32LE(pos)) all.push(Buffer.from(c.bytes.subarray(pos, pos + 4 + c.bytes.readUInt32LE(pos))));
    }
    for (let i = all.length - 1; i >= 0; i--) {
      if (isIt(all[i], 4)) {
        all.splice(i, 1);
        break;
      }
    }
    for (const c of dropped) this.pool.give(c.bytes);
    for (const c of held) this.pool.give(c.bytes);
    this.sealed = [];
    this.sealedN = 0;
    this.firstN = 0;
    this.cur = undefined;
    this.curEnd = 0;
    this.curN = 0;
    // Rebuilt without dropping anything: the chunk boundaries may differ from before, and a drop here
    // could lose a record an older rollback still has to bring back. Readers skip the extras; the
    // next push drops them.
    for (const rec of all) this.append(rec, copyRecord);
  }
}
