import type { FileFound } from '@pureboot/core';

interface Entry {
  data: Promise<Buffer>;
  size: number;
}

/**
 * Hot small files in memory: 200 clients fetching the same `undionly.kpxe` read it once. A file is
 * cached only when its resolver gives an `etag` (for the static root: inode, size and mtime), so a
 * changed file has a new key and is read again. Least recently used entries go first.
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

  /** The file's bytes from memory, loading it once; `hit` tells whether it was already there. */
  async get(path: string, found: FileFound): Promise<{ data: Buffer; hit: boolean }> {
    const key = `${found.source ?? ''}\u0000${path}\u0000${found.etag ?? ''}\u0000${found.size}`;
    const have = this.entries.get(key);
    if (have) {
      this.entries.delete(key);
      this.entries.set(key, have);
      return { data: await have.data, hit: true };
    }
    const data = load(found);
    const entry: Entry = { data, size: found.size };
    this.entries.set(key, entry);
    this.total += found.size;
    this.evict();
    try {
      const buf = await data;
      if (buf.length !== found.size) this.remove(key, entry); // changed while reading: do not keep
      return { data: buf, hit: false };
    } catch (err) {
      this.remove(key, entry);
      throw err;
    }
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

async function load(found: FileFound): Promise<Buffer> {
  const reader = await found.open();
  try {
    return await reader.read(0, found.size);
  } finally {
    await reader.close();
  }
}
