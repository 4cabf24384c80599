/**
 * Byte chunks for the boot timelines, cut from 256 KiB slabs and reused once freed. Two sizes: a
 * timeline starts with a small chunk (most MACs ever seen have an event or two: a DHCP client that
 * never boots from PureBoot, a DISCOVER flood with random MACs) and continues in full ones.
 *
 * A buffer per chunk would be an ArrayBuffer allocation each time a timeline fills one (1 500 a
 * second under bench:http's load): V8 counts each as external memory and answered with a major GC
 * every 50 ms, whose marking steps held requests up to 24 ms. Slabs make such allocations rare, and
 * chunks retention dropped come back here (`give`) once no rollback can need them: a full fleet
 * then reuses its own chunks and allocates nothing.
 *
 * Memory is never returned: the pool holds the most the timelines ever used at once (their size is
 * bounded by bootEventRetention × machines).
 */
export class ChunkPool {
  private readonly full: SizeClass;
  private readonly small: SizeClass;
  /** Bytes of a timeline's first chunk. */
  readonly smallBytes: number;

  constructor(
    /** Bytes of every chunk after a timeline's first. */
    readonly chunkBytes = 4096,
    slabBytes = 256 * 1024,
    smallBytes = 256,
  ) {
    this.smallBytes = Math.min(smallBytes, chunkBytes);
    this.full = new SizeClass(chunkBytes, Math.max(1, Math.floor(slabBytes / chunkBytes)));
    // Equal sizes (tests with tiny chunks): one class, so give() finds the class a chunk came from.
    this.small = this.smallBytes === chunkBytes ? this.full : new SizeClass(this.smallBytes, Math.max(1, Math.floor(slabBytes / this.smallBytes)));
  }

  /** Chunks handed out and not given back (for tests and diagnostics). */
  get inUse(): number {
    return this.full.inUse + (this.small === this.full ? 0 : this.small.inUse);
  }

  /** A chunk for `bytes` (contents undefined): a small one when asked and it fits, else a full one. */
  take(bytes: number, small: boolean): Buffer {
    return (small && bytes <= this.smallBytes ? this.small : this.full).take();
  }

  /** Give back a chunk from `take` that nothing reads or writes any more (other buffers are ignored). */
  give(chunk: Buffer): void {
    if (chunk.length === this.chunkBytes) this.full.give(chunk);
    else if (chunk.length === this.smallBytes) this.small.give(chunk);
  }
}

class SizeClass {
  private readonly free: Buffer[] = [];
  private slab: ArrayBuffer | undefined;
  private next = 0;
  inUse = 0;

  constructor(
    readonly bytes: number,
    private readonly perSlab: number,
  ) {}

  take(): Buffer {
    this.inUse++;
    const reused = this.free.pop();
    if (reused) return reused;
    if (!this.slab || this.next === this.perSlab) {
      this.slab = new ArrayBuffer(this.bytes * this.perSlab);
      this.next = 0;
    }
    return Buffer.from(this.slab, this.bytes * this.next++, this.bytes);
  }

  give(chunk: Buffer): void {
    this.inUse--;
    this.free.push(chunk);
  }
}
