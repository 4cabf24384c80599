/**
 * Fixed-size byte chunks for the boot timelines, cut from 256 KiB slabs and reused once freed.
 *
 * A buffer per chunk would be an ArrayBuffer allocation each time a timeline fills one (1 500 a
 * second under bench:http's load): V8 counts each as external memory and answered with a major GC
 * every 50 ms, whose marking steps held requests up to 24 ms. Slabs make such allocations rare, and
 * chunks retention dropped come back here (`free`) once no rollback can need them: a full fleet
 * then reuses its own chunks and allocates nothing.
 *
 * Memory is never returned: the pool holds the most the timelines ever used at once (their size is
 * bounded by bootEventRetention × machines).
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  private slab: ArrayBuffer | undefined;
  private next = 0;
  /** Chunks handed out and not freed (for tests and diagnostics). */
  inUse = 0;

  constructor(
    readonly chunkBytes = 4096,
    private readonly slabChunks = 64,
  ) {}

  /** A chunk of `chunkBytes` (contents undefined). */
  take(): Buffer {
    this.inUse++;
    const reused = this.free.pop();
    if (reused) return reused;
    if (!this.slab || this.next === this.slabChunks) {
      this.slab = new ArrayBuffer(this.chunkBytes * this.slabChunks);
      this.next = 0;
    }
    return Buffer.from(this.slab, this.chunkBytes * this.next++, this.chunkBytes);
  }

  /** Give back a chunk from `take` that nothing reads or writes any more. */
  give(chunk: Buffer): void {
    if (chunk.length !== this.chunkBytes) return; // an oversized one-off (one event larger than a chunk)
    this.inUse--;
    this.free.push(chunk);
  }
}
