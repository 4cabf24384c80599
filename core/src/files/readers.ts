import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { FileFound, FileReader } from '../hooks/types';

/** A generated file held in memory, as a fileResolve answer (built iPXE binaries, scripts …). */
export function bufferFile(data: Buffer, extra: Partial<Omit<FileFound, 'status' | 'size' | 'open'>> = {}): FileFound {
  return {
    status: 'found',
    size: data.length,
    ...extra,
    open: async () => bufferReader(data),
  };
}

export function bufferReader(data: Buffer): FileReader {
  return {
    read: async (offset, length) => data.subarray(Math.min(offset, data.length), Math.min(offset + length, data.length)),
    readInto: async (target, offset) => (offset >= data.length ? 0 : data.copy(target, 0, offset, Math.min(data.length, offset + target.length))),
    stream: (range) => Readable.from(range ? [data.subarray(range.start, range.end + 1)] : [data]),
    close: async () => undefined,
  };
}

/** Reader over an open file descriptor (positional reads; streams do not close the descriptor). */
export function fdReader(handle: fs.promises.FileHandle, size: number): FileReader {
  let closed = false;
  const readInto = async (target: Buffer, offset: number): Promise<number> => {
    const len = Math.max(0, Math.min(target.length, size - offset));
    let got = 0;
    while (got < len) {
      const { bytesRead } = await handle.read(target, got, len - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  };
  return {
    read: async (offset, length) => {
      const len = Math.max(0, Math.min(length, size - offset));
      if (len === 0) return Buffer.alloc(0);
      const buf = Buffer.allocUnsafe(len);
      const got = await readInto(buf, offset);
      return got === len ? buf : buf.subarray(0, got);
    },
    readInto,
    stream: (range) => {
      const start = range?.start ?? 0;
      const end = range?.end ?? size - 1;
      return handle.createReadStream({ start, end, autoClose: false, emitClose: false });
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}
