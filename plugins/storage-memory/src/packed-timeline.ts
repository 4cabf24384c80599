/** One chunk of a timeline: events as UTF-8 lines ('\n' never occurs in JSON.stringify's output). */
export interface Chunk {
  bytes: Buffer;
  /** Bytes used. */
  end: number;
  /** Events in it. */
  n: number;
}

import type { ChunkPool } from './chunk-pool';

const NONE: Chunk[] = [];

/**
 * One machine's stored boot events (each one string, see event-log.ts), newest last, kept as UTF-8
 * lines in 4 KiB chunks outside V8's heap (from a ChunkPool).
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
  private chunks: Chunk[] = [];
  private held = 0;

  constructor(
    private readonly retention: number,
    private readonly pool: ChunkPool,
  ) {}

  /** Events a reader sees. */
  get size(): number {
    return Math.min(this.held, this.retention);
  }

  get empty(): boolean {
    return this.held === 0;
  }

  /** Add the newest event; returns the chunks retention dropped (kept for undo until given back to the pool). */
  push(packed: string): Chunk[] {
    let last = this.chunks[this.chunks.length - 1];
    // A UTF-16 code unit is at most 3 UTF-8 bytes: the exact length is only needed near the end.
    if (!last || (last.end + packed.length * 3 + 1 > last.bytes.length && last.end + Buffer.byteLength(packed) + 1 > last.bytes.length)) {
      const size = Buffer.byteLength(packed) + 1;
      last = { bytes: size <= this.pool.chunkBytes ? this.pool.take() : Buffer.allocUnsafeSlow(size), end: 0, n: 0 };
      this.chunks.push(last);
    }
    last.end += last.bytes.write(packed, last.end, 'utf8');
    last.bytes[last.end++] = 10;
    last.n++;
    this.held++;
    let dropped: Chunk[] | undefined;
    while (this.chunks.length > 1 && this.held - this.chunks[0].n >= this.retention) {
      const c = this.chunks.shift()!;
      this.held -= c.n;
      (dropped ??= []).push(c);
    }
    return dropped ?? NONE;
  }

  /** The retained events, oldest first; stop early by returning false. */
  each(visit: (packed: string) => boolean | void): void {
    let skip = this.held - this.retention;
    for (const c of this.chunks) {
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
   * Rollbacks run newest first, but this does not rely on it: it rebuilds the list from all it holds.
   */
  remove(packed: string, dropped: Chunk[]): void {
    const all: string[] = [];
    for (const c of dropped) all.push(...lines(c));
    for (const c of this.chunks) all.push(...lines(c));
    const i = all.lastIndexOf(packed);
    if (i >= 0) all.splice(i, 1);
    for (const c of dropped) this.pool.give(c.bytes);
    for (const c of this.chunks) this.pool.give(c.bytes);
    this.chunks = [];
    this.held = 0;
    for (const p of all) this.push(p);
  }
}

function lines(c: Chunk): string[] {
  return c.n === 0 ? [] : c.bytes.toString('utf8', 0, c.end - 1).split('\n');
}
