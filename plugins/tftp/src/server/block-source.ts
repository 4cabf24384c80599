import type { FileReader } from '@pureboot/core';
import { toNetascii } from '../codec/netascii';

/** Produces the file's bytes in order, chunk by chunk; `null` at the end. */
export interface ChunkProducer {
  nextChunk(): Promise<Buffer | null>;
}

/** One in-memory buffer (cached or generated files). */
export function bufferChunks(data: Buffer): ChunkProducer {
  let done = false;
  return {
    nextChunk: async () => {
      if (done) return null;
      done = true;
      return data;
    },
  };
}

/** Positional reads of `chunkBytes` with one chunk of read-ahead, so the disk works while packets fly. */
export function readerChunks(reader: FileReader, size: number, chunkBytes: number): ChunkProducer {
  let offset = 0;
  let ahead: Promise<Buffer> | undefined;
  const fetch = (): Promise<Buffer> | undefined => {
    if (offset >= size) return undefined;
    const len = Math.min(chunkBytes, size - offset);
    const p = reader.read(offset, len);
    offset += len;
    return p;
  };
  return {
    async nextChunk() {
      const current = ahead ?? fetch();
      ahead = undefined;
      if (!current) return null;
      const buf = await current;
      ahead = fetch();
      // Avoid an unhandled rejection if the transfer ends before it awaits the read-ahead.
      ahead?.catch(() => undefined);
      if (buf.length === 0) return null; // the file shrank under us: end where it ends
      return buf;
    },
  };
}

/** RFC 764 netascii conversion of another producer. */
export function netasciiChunks(inner: ChunkProducer): ChunkProducer {
  return {
    async nextChunk() {
      const c = await inner.nextChunk();
      return c === null ? null : toNetascii(c);
    },
  };
}

/**
 * Cuts a chunk stream into TFTP blocks of exactly `blksize` bytes; the last block is shorter (empty
 * when the length is a multiple of blksize). `next()` answers synchronously while buffered data lasts.
 */
export class BlockSlicer {
  private pending: Buffer = Buffer.alloc(0);
  private pos = 0;
  private eof = false;
  private finished = false;
  constructor(
    private readonly producer: ChunkProducer,
    readonly blksize: number,
  ) {}

  /** The next block, or `undefined` after the last (short) block was returned. */
  next(): Buffer | undefined | Promise<Buffer | undefined> {
    if (this.finished) return undefined;
    if (this.pending.length - this.pos >= this.blksize) {
      const b = this.pending.subarray(this.pos, this.pos + this.blksize);
      this.pos += this.blksize;
      return b;
    }
    if (this.eof) return this.last();
    return this.refill();
  }

  private last(): Buffer {
    this.finished = true;
    const b = this.pending.subarray(this.pos);
    this.pending = Buffer.alloc(0);
    this.pos = 0;
    return b;
  }

  private async refill(): Promise<Buffer | undefined> {
    while (this.pending.length - this.pos < this.blksize && !this.eof) {
      const c = await this.producer.nextChunk();
      if (c === null) this.eof = true;
      else this.pending = this.pos < this.pending.length ? Buffer.concat([this.pending.subarray(this.pos), c]) : c;
      if (c !== null) this.pos = 0;
    }
    return this.next();
  }
}
