import { PgStoreError, StorageErrorCodes } from './errors';

/** Opaque keyset cursors: the key of the last item of a page, tagged by what it pages. */
export function encodeCursor(kind: string, key: string | number): string {
  return Buffer.from(JSON.stringify([kind, key])).toString('base64url');
}

export function decodeCursor<T extends string | number>(kind: string, cursor: string, type: 'string' | 'number'): T {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && v[0] === kind && typeof v[1] === type) return v[1] as T;
  } catch {
    // fall through
  }
  throw new PgStoreError(StorageErrorCodes.BAD_CURSOR, `invalid ${kind} cursor: pass nextCursor from a previous page unchanged`, { cursor });
}

/** Page size: default 100, clamped to 1..1000. */
export function pageLimit(limit: number | undefined, max = 1000, dflt = 100): number {
  if (limit === undefined || !Number.isFinite(limit)) return dflt;
  return Math.min(max, Math.max(1, Math.floor(limit)));
}
