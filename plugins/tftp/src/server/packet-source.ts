import { writeDataHeader } from '../codec/packet';
import type { ChunkProducer } from './block-source';

/**
 * Where a read transfer's DATA packets come from. Blocks are produced in order (block n only after
 * n − 1); a produced block stays available for retransmission until `release` covers it.
 */
export interface PacketSource {
  readonly blksize: number;
  /** The whole DATA packet (header and data) of absolute block n (1-based). */
  packet(n: number): Buffer | Promise<Buffer>;
  /** Blocks 1..n are acknowledged: their memory may be reused. */
  release(n: number): void;
  /** Every packet of the file back to back, where they are all in memory (see packetize). */
  readonly wire?: Buffer;
}

/**
 * Every DATA packet of an in-memory file, in one allocation. Block numbers only depend on the block's
 * position, so the packets are the same for every transfer of the file at this blksize: the hot-file
 * cache builds them once and 200 clients of a boot storm share them (no allocation or copy per DATA).
 */
export function packetize(data: Buffer, blksize: number): Buffer[] {
  const blocks = Math.floor(data.length / blksize) + 1; // the last one is short (maybe empty)
  const arena = Buffer.allocUnsafe(data.length + 4 * blocks);
  const packets: Buffer[] = new Array(blocks);
  let at = 0;
  for (let i = 0; i < blocks; i++) {
    const from = i * blksize;
    const len = Math.min(blksize, data.length - from);
    writeDataHeader(arena, at, (i + 1) & 0xffff);
    data.copy(arena, at + 4, from, from + len);
    packets[i] = arena.subarray(at, at + 4 + len);
    at += 4 + len;
  }
  return packets;
}

/** Packets built once (see packetize); nothing to release. */
export class PrebuiltPackets implements PacketSource {
  readonly wire: Buffer | undefined;

  constructor(
    private readonly packets: readonly Buffer[],
    readonly blksize: number,
  ) {
    // packetize() writes them back to back into one arena: the whole span, if that is what they are.
    const first = packets[0];
    const last = packets[packets.length - 1];
    const contiguous = first && last.buffer === first.buffer && last.byteOffset - first.byteOffset === (packets.length - 1) * (blksize + 4) && last.length < blksize + 4;
    this.wire = contiguous ? Buffer.from(first.buffer, first.byteOffset, last.byteOffset + last.length - first.byteOffset) : undefined;
  }

  packet(n: number): Buffer {
    const p = this.packets[n - 1];
    if (!p) throw new Error(`internal: block ${n} of ${this.packets.length} requested`);
    return p;
  }

  release(): void {}
}

interface Arena {
  buf: Buffer;
  packets: Buffer[];
}

/**
 * Packets cut from a chunk stream (streamed files, netascii), written into arenas of `perArena`
 * packet slots. An arena whose blocks are all acknowledged is reused for later blocks — when the
 * socket has no send queued (`canReuse`), since a queued datagram still points into it — so a transfer
 * of any size allocates a few arenas, not one buffer per DATA (which kept V8's major GC busy).
 */
export class ChunkPackets implements PacketSource {
  private readonly perArena: number;
  private readonly arenas = new Map<number, Arena>();
  private readonly spare: Buffer[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private eof = false;
  private produced = 0;
  private last = Infinity;

  constructor(
    private readonly producer: ChunkProducer,
    readonly blksize: number,
    arenaBytes: number,
    private readonly canReuse: () => boolean,
  ) {
    this.perArena = Math.max(1, Math.floor(arenaBytes / (blksize + 4)));
  }

  packet(n: number): Buffer | Promise<Buffer> {
    if (n <= this.produced) {
      const p = this.arenas.get(Math.floor((n - 1) / this.perArena))?.packets[(n - 1) % this.perArena];
      if (!p) throw new Error(`internal: block ${n} requested after its release`);
      return p;
    }
    if (n !== this.produced + 1 || n > this.last) throw new Error(`internal: block ${n} requested after ${this.produced}`);
    // Fast path: the current chunk holds the whole block (or the stream has ended).
    if (this.chunk.length - this.pos >= this.blksize || this.eof) return this.cut(n);
    return this.fillThenCut(n);
  }

  release(n: number): void {
    for (const [index, arena] of this.arenas) {
      if ((index + 1) * this.perArena > n) continue;
      this.arenas.delete(index);
      if (this.spare.length < 2 && this.canReuse()) this.spare.push(arena.buf);
    }
  }

  private async fillThenCut(n: number): Promise<Buffer> {
    const { arena, at } = this.slot(n);
    const buf = arena.buf;
    let len = 0;
    for (;;) {
      len += this.take(buf, at + 4 + len, this.blksize - len);
      if (len === this.blksize || this.eof) break;
      const c = await this.producer.nextChunk();
      if (c === null) this.eof = true;
      else {
        this.chunk = c;
        this.pos = 0;
      }
    }
    return this.finish(n, arena, at, len);
  }

  /** Block n when the current chunk holds all of it (or the stream has ended). */
  private cut(n: number): Buffer {
    const { arena, at } = this.slot(n);
    return this.finish(n, arena, at, this.take(arena.buf, at + 4, this.blksize));
  }

  /** Copy up to `max` bytes of the current chunk to buf[to…]. */
  private take(buf: Buffer, to: number, max: number): number {
    const k = Math.min(max, this.chunk.length - this.pos);
    if (k <= 0) return 0;
    this.chunk.copy(buf, to, this.pos, this.pos + k);
    this.pos += k;
    return k;
  }

  /** The arena slot of block n (a new or reused arena for its first block). */
  private slot(n: number): { arena: Arena; at: number } {
    const index = Math.floor((n - 1) / this.perArena);
    let arena = this.arenas.get(index);
    if (!arena) {
      arena = { buf: this.spare.pop() ?? Buffer.allocUnsafe(this.perArena * (this.blksize + 4)), packets: [] };
      this.arenas.set(index, arena);
    }
    return { arena, at: ((n - 1) % this.perArena) * (this.blksize + 4) };
  }

  private finish(n: number, arena: Arena, at: number, len: number): Buffer {
    writeDataHeader(arena.buf, at, n & 0xffff);
    const p = arena.buf.subarray(at, at + 4 + len);
    arena.packets.push(p);
    this.produced = n;
    if (len < this.blksize) this.last = n;
    return p;
  }
}
