import { PurebootError } from '@pureboot/core';

/**
 * Codes every storage backend shares for contract misuse (the same strings in storage-file and
 * storage-postgres; documented once under "Storage plugins" in docs/errors.md).
 */
export const StorageErrorCodes = Object.freeze({
  BAD_CURSOR: 'PB_ERR_STORAGE_BAD_CURSOR',
  BAD_REQUEST: 'PB_ERR_STORAGE_BAD_REQUEST',
} as const);

export class StorageError extends PurebootError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.name = 'StorageError';
  }
}

export function badRequest(message: string, details: Record<string, unknown> = {}): StorageError {
  return new StorageError(StorageErrorCodes.BAD_REQUEST, message, details);
}
