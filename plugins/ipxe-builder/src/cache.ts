import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IpxeTarget } from '@pureboot/core';
import { IpxeError, IpxeErrorCodes } from './errors';

/** What the cache key covers: the iPXE source, the target, the config/local headers and the embedded script. */
export interface CacheKeyParts {
  sourceRevision: string;
  target: IpxeTarget;
  configHeaders: Record<string, string>;
  embeddedScript?: string;
}

export function cacheKey(p: CacheKeyParts): string {
  const headers = Object.keys(p.configHeaders)
    .sort()
    .map((h) => [h, p.configHeaders[h]]);
  const canonical = JSON.stringify({ v: 1, source: p.sourceRevision, target: p.target, headers, script: p.embeddedScript ?? null });
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

export interface CacheEntryMeta {
  key: string;
  target: IpxeTarget;
  /** File name of the artifact (the target's base name, e.g. undionly.kpxe). */
  file: string;
  sourceRevision: string;
  backend: string;
  size: number;
  sha256: string;
  builtAt: number;
  features: string[];
  embedded: boolean;
}

const KEY_RE = /^[0-9a-f]{64}$/;

/**
 * Content-addressed store of built binaries under `<dataDir>/ipxe-builder/`: `cache/<key>/artifact`,
 * `meta.json` and `build.log`, written into a temporary folder and renamed into place (a crash never
 * leaves half an entry), plus `names.json` (published name → key).
 */
export class ArtifactCache {
  readonly root: string;
  private names: Record<string, string> | undefined;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'ipxe-builder');
  }

  private dir(key: string): string {
    if (!KEY_RE.test(key)) throw new IpxeError(IpxeErrorCodes.CACHE, 500, `not a cache key: ${JSON.stringify(key)}`);
    return path.join(this.root, 'cache', key);
  }

  artifactPath(key: string): string {
    return path.join(this.dir(key), 'artifact');
  }

  async get(key: string): Promise<CacheEntryMeta | undefined> {
    if (!KEY_RE.test(key)) return undefined;
    try {
      const meta = JSON.parse(await fs.promises.readFile(path.join(this.dir(key), 'meta.json'), 'utf8')) as CacheEntryMeta;
      const st = await fs.promises.stat(this.artifactPath(key));
      return st.size === meta.size ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  async readLog(key: string): Promise<string[]> {
    try {
      return (await fs.promises.readFile(path.join(this.dir(key), 'build.log'), 'utf8')).split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
    } catch {
      return [];
    }
  }

  async put(meta: Omit<CacheEntryMeta, 'size' | 'sha256'>, artifact: Buffer, log: string[]): Promise<CacheEntryMeta> {
    const full: CacheEntryMeta = { ...meta, size: artifact.length, sha256: crypto.createHash('sha256').update(artifact).digest('hex') };
    const final = this.dir(meta.key);
    const tmp = `${final}.tmp-${crypto.randomBytes(4).toString('hex')}`;
    try {
      await fs.promises.mkdir(tmp, { recursive: true });
      await fs.promises.writeFile(path.join(tmp, 'artifact'), artifact);
      await fs.promises.writeFile(path.join(tmp, 'build.log'), log.length ? `${log.join('\n')}\n` : '');
      await fs.promises.writeFile(path.join(tmp, 'meta.json'), `${JSON.stringify(full, null, 2)}\n`);
      await fs.promises.rm(final, { recursive: true, force: true });
      await fs.promises.rename(tmp, final);
    } catch (err) {
      await fs.promises.rm(tmp, { recursive: true, force: true });
      throw new IpxeError(IpxeErrorCodes.CACHE, 500, `cannot store the build in ${final}: ${(err as Error).message}`);
    }
    return full;
  }

  private async loadNames(): Promise<Record<string, string>> {
    if (this.names) return this.names;
    try {
      const raw = JSON.parse(await fs.promises.readFile(path.join(this.root, 'names.json'), 'utf8')) as Record<string, string>;
      this.names = Object.fromEntries(Object.entries(raw).filter(([, k]) => typeof k === 'string' && KEY_RE.test(k)));
    } catch {
      this.names = {};
    }
    return this.names;
  }

  async setName(name: string, key: string): Promise<void> {
    const names = await this.loadNames();
    names[name] = key;
    const file = path.join(this.root, 'names.json');
    const tmp = `${file}.tmp-${crypto.randomBytes(4).toString('hex')}`;
    await fs.promises.mkdir(this.root, { recursive: true });
    await fs.promises.writeFile(tmp, `${JSON.stringify(names, null, 2)}\n`);
    await fs.promises.rename(tmp, file);
  }

  async keyOfName(name: string): Promise<string | undefined> {
    const names = await this.loadNames();
    return Object.prototype.hasOwnProperty.call(names, name) ? names[name] : undefined;
  }
}
