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

/**
 * Positional reads of `chunkBytes` with one chunk of read-ahead, so the disk works while packets fly.
 * A reader with `readInto` reads into two buffers in turn: a chunk must be consumed (copied out)
 * before the next one is asked for, which is how ChunkPackets and netasciiChunks use it.
 */
export function readerChunks(reader: FileReader, size: number, chunkBytes: number): ChunkProducer {
  let offset = 0;
  let ahead: Promise<Buffer> | undefined;
  const readInto = reader.readInto?.bind(reader);
  const buffers = readInto ? [Buffer.allocUnsafe(Math.min(chunkBytes, size)), Buffer.allocUnsafe(Math.min(chunkBytes, size))] : [];
  let turn = 0;
  const fetch = (): Promise<Buffer> | undefined => {
    if (offset >= size) return undefined;
    const len = Math.min(chunkBytes, size - offset);
    const at = offset;
    offset += len;
    if (!readInto) return reader.read(at, len);
    const target = buffers[turn++ & 1].subarray(0, len);
    return readInto(target, at).then((got) => target.subarray(0, got));
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
