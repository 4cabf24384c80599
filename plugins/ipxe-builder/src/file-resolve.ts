import fs from 'node:fs';
import { bufferFile, fdReader, type FileRequest, type FileResolution } from '@pureboot/core';
import type { ArtifactCache } from './cache';
import { NAME_RE } from './inputs';

export interface ResolverDeps {
  cache: ArtifactCache;
  /** Path prefix of built artifacts, without slashes at either end (`ipxe`). */
  pathPrefix: string;
  /** Exact paths (e.g. `autoexec.ipxe`, `uefi/autoexec.ipxe`) answered with the autoexec script. */
  autoexecPaths: string[];
  /** The autoexec.ipxe script, when configured. */
  autoexec?: string;
}

const KEY_PATH = /^([0-9a-f]{64})\/([A-Za-z0-9._-]{1,64})$/;

/** `/a//b` and `a/b` alike; undefined for anything with `..`, `.`, NUL or backslashes. */
function normalise(p: string): string | undefined {
  if (p.includes('\0') || p.includes('\\')) return undefined;
  const parts = p.split('/').filter((s) => s !== '');
  if (parts.some((s) => s === '..' || s === '.')) return undefined;
  return parts.join('/');
}

/**
 * The fileResolve tap: `<prefix>/<name>` (a published build), `<prefix>/<key>/<file>` (any cached
 * build, immutable) and the configured autoexec.ipxe paths. Other paths get no opinion (undefined),
 * so the static root still answers them.
 */
export function createResolver(d: ResolverDeps): (req: FileRequest) => Promise<FileResolution | undefined> {
  const autoexecPaths = new Set(d.autoexecPaths.map((p) => normalise(p) ?? ''));
  const autoexec = d.autoexec !== undefined ? Buffer.from(d.autoexec, 'utf8') : undefined;
  return async (req) => {
    const p = normalise(req.path);
    if (p === undefined) return undefined;
    if (autoexec && autoexecPaths.has(p)) return bufferFile(autoexec, { contentType: 'text/plain; charset=utf-8', source: 'ipxe-builder:autoexec' });
    if (!p.startsWith(`${d.pathPrefix}/`)) return undefined;
    const rest = p.slice(d.pathPrefix.length + 1);
    let key: string | undefined;
    const m = KEY_PATH.exec(rest);
    if (m) key = m[1];
    else if (NAME_RE.test(rest)) key = await d.cache.keyOfName(rest);
    if (!key) return undefined;
    const meta = await d.cache.get(key);
    if (!meta || (m && m[2] !== meta.file)) return undefined;
    const file = d.cache.artifactPath(key);
    return {
      status: 'found',
      size: meta.size,
      mtimeMs: meta.builtAt,
      etag: `"${meta.sha256}"`,
      contentType: 'application/octet-stream',
      source: 'ipxe-builder',
      open: async () => fdReader(await fs.promises.open(file, 'r'), meta.size),
    };
  };
}
