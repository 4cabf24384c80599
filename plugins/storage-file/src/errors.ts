import { PurebootError } from '@pureboot/core';

export const FileStorageErrorCodes = Object.freeze({
  /** Another process (or another store in this process) holds the data directory's lock. */
  LOCKED: 'PB_ERR_STORAGE_LOCKED',
  /** A snapshot or journal is damaged somewhere other than its last record. */
  CORRUPT: 'PB_ERR_STORAGE_CORRUPT',
  /** The journal write failed for lack of space; nothing of the failed write is kept. */
  DISK_FULL: 'PB_ERR_STORAGE_DISK_FULL',
  /** Any other journal write/fsync failure; nothing of the failed write is kept. */
  WRITE: 'PB_ERR_STORAGE_WRITE',
  /** Opening the data directory failed (permissions, not a directory …). */
  OPEN: 'PB_ERR_STORAGE_OPEN',
  /** The store was used after close(). */
  CLOSED: 'PB_ERR_STORAGE_CLOSED',
  /** Logged (not thrown) when loading cut off an incomplete last journal record. */
  TORN_TAIL: 'PB_ERR_STORAGE_TORN_TAIL',
  /** Logged (not thrown) when a compaction failed; the store keeps using its current journal. */
  COMPACTION: 'PB_ERR_STORAGE_COMPACTION',
} as const);

export class FileStorageError extends PurebootError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.name = 'FileStorageError';
  }
}
