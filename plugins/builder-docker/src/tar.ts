import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

/** A tar stream of files given as name → contents (for putArchive). */
export function tarOf(files: Record<string, string | Buffer>, mode = 0o644): Readable {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode, mtime: new Date(0) }, body);
  pack.finalize();
  return pack as unknown as Readable;
}

/** Every regular file under `dir` (sorted, relative paths), for a build context and its hash. */
export async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.promises.readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** A folder as a tar stream (file modes kept: the stand-in's and iPXE's scripts stay executable). */
export async function tarOfDir(dir: string): Promise<Readable> {
  const pack = tar.pack();
  const files = await listFiles(dir);
  void (async () => {
    for (const f of files) {
      const full = path.join(dir, f);
      const st = await fs.promises.stat(full);
      const body = await fs.promises.readFile(full);
      await new Promise<void>((resolve, reject) => pack.entry({ name: f, mode: st.mode & 0o777, mtime: new Date(0) }, body, (err) => (err ? reject(err) : resolve())));
    }
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  return pack as unknown as Readable;
}

/** The contents of the first regular file in a tar stream (what getArchive returns for one file). */
export function firstFileOf(stream: NodeJS.ReadableStream, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const extract = tar.extract();
    let found: Buffer | undefined;
    extract.on('entry', (header, entry, next) => {
      const chunks: Buffer[] = [];
      let size = 0;
      entry.on('data', (data: unknown) => {
        const c = data as Buffer;
        size += c.length;
        if (found === undefined && header.type === 'file' && size <= maxBytes) chunks.push(c);
      });
      entry.on('end', () => {
        if (found === undefined && header.type === 'file') {
          if (size > maxBytes) return reject(new Error(`artifact larger than ${maxBytes} bytes`));
          found = Buffer.concat(chunks);
        }
        next();
      });
      entry.resume();
    });
    extract.on('finish', () => resolve(found));
    extract.on('error', reject);
    stream.on('error', reject);
    stream.pipe(extract);
  });
}
