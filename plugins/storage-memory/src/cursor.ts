import { StorageError, StorageErrorCodes } from './errors';

/** Opaque page cursors: base64url of `<kind>:<key>`, so a lease cursor cannot be used for nodes. */
export function encodeCursor(kind: 'lease' | 'node', key: string | number): string {
  return Buffer.from(`${kind}:${key}`, 'utf8').toString('base64url');
}

export function decodeCursor(kind: 'lease' | 'node', cursor: string): string {
  const raw = typeof cursor === 'string' && /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const prefix = `${kind}:`;
  if (!raw.startsWith(prefix) || raw.length === prefix.length) {
    throw new StorageError(StorageErrorCodes.BAD_CURSOR, `not a ${kind} page cursor: ${JSON.stringify(cursor)}`, { cursor });
  }
  return raw.slice(prefix.length);
}

export function decodeLeaseCursor(cursor: string): number {
  const key = decodeCursor('lease', cursor);
  const n = Number(key);
  if (!/^\d+$/.test(key) || n > 0xffffffff) throw new StorageError(StorageErrorCodes.BAD_CURSOR, `not a lease page cursor: ${JSON.stringify(cursor)}`, { cursor });
  return n;
}

/** Page size: default when absent, clamped to 1..max. */
export function pageLimit(limit: number | undefined, def: number, max: number): number {
  if (limit === undefined) return def;
  if (typeof limit !== 'number' || !Number.isFinite(limit)) return def;
  return Math.min(max, Math.max(1, Math.floor(limit)));
}

/** Index of the first element of sorted `arr` that is greater than `key`. */
export function upperBound<T>(arr: T[], key: T): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
