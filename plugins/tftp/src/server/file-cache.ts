import type { FileFound } from '@pureboot/core';
import { packetize } from './packet-source';

interface Entry {
  key: string;
  data: Promise<Buffer>;
  /** The bytes once `data` has settled with them. */
  loaded?: Buffer;
  size: number;
  /** The file's DATA packets by blksize (built on first use, shared by every transfer). */
  packets: Map<number, Buffer[]>;
}

/** Packet sets kept per file (distinct blksizes in use; more are built per transfer and not kept). */
const MAX_PACKET_SETS = 4;

export interface CachedFile {
  data: Buffer;
  hit: boolean;
  /** The file as DATA packets of this blksize. */
  packets(blksize: number): Buffer[];
}

/**
 * Hot small files in memory: 200 clients fetching the same `undionly.kpxe` read it once. A file is
 * cached only when its resolver gives an `etag` (for the static root: inode, size and mtime), so a
 * changed file has a new key and is read again. Least recently used entries go first. Each entry also
 * keeps its DATA packets per blksize (see packetize), counted in the memory budget.
 */
export class FileCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  constructor(
    private readonly maxFileBytes: number,
    private readonly maxBytes: number,
  ) {}

  cacheable(found: FileFound): boolean {
    return this.maxFileBytes > 0 && found.etag !== undefined && found.size <= this.maxFileBytes && found.size <= this.maxBytes;
  }

  /** The file from memory if it is there and loaded, without a promise (a boot storm's every request but the first). */
  loaded(path: string, found: FileFound): CachedFile | undefined {
    const key = keyOf(path, found);
    const have = this.entries.get(key);
    if (!have?.loaded) return undefined;
    this.touch(key, have);
    return this.view(have, have.loaded, true);
  }

  /** The file's bytes from memory, loading it once; `hit` tells whether it was already there. */
  async get(path: string, found: FileFound): Promise<CachedFile> {
    const key = keyOf(path, found);
    const have = this.entries.get(key);
    if (have) {
      this.touch(key, have);
      return this.view(have, await have.data, true);
    }
    const data = load(found);
    const entry: Entry = { key, data, size: found.size, packets: new Map() };
    this.entries.set(key, entry);
    this.total += found.size;
    this.evict();
    try {
      const buf = await data;
      if (buf.length !== found.size) this.remove(key, entry); // changed while reading: do not keep
      else entry.loaded = buf;
      return this.view(entry, buf, false);
    } catch (err) {
      this.remove(key, entry);
      throw err;
    }
  }

  private view(entry: Entry, data: Buffer, hit: boolean): CachedFile {
    return {
      data,
      hit,
      packets: (blksize) => {
        let set = entry.packets.get(blksize);
        if (set) return set;
        set = packetize(data, blksize);
        // Kept only while the entry is still cached (it may have been evicted or replaced meanwhile).
        if (entry.packets.size < MAX_PACKET_SETS && this.entries.get(entry.key) === entry) {
          entry.packets.set(blksize, set);
          const bytes = data.length + 4 * set.length;
          entry.size += bytes;
          this.total += bytes;
          this.evict();
        }
        return set;
      },
    };
  }

  /** Used now: last in line for eviction. */
  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private remove(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) {
      this.entries.delete(key);
      this.total -= entry.size;
    }
  }

  private evict(): void {
    while (this.total > this.maxBytes && this.entries.size > 0) {
      const [key, e] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(key);
      this.total -= e.size;
    }
  }

  get bytes(): number {
    return this.total;
  }
}

function keyOf(path: string, found: FileFound): string {
  return `${found.source ?? ''}\u0000${path}\u0000${found.etag ?? ''}\u0000${found.size}`;
}

async function load(found: FileFound): Promise<Buffer> {
  const reader = await found.open();
  try {
    return await reader.read(0, found.size);
  } finally {
    await reader.close();
  }
}
