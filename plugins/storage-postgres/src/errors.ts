import { PurebootError } from '@pureboot/core';

/** Error codes of the PostgreSQL store (documented in docs/errors.md, "Storage plugins"). */
export const PgErrorCodes = Object.freeze({
  OPTIONS: 'PB_ERR_STORAGE_PG_OPTIONS',
  CONNECT: 'PB_ERR_STORAGE_PG_CONNECT',
  AUTH: 'PB_ERR_STORAGE_PG_AUTH',
  DATABASE: 'PB_ERR_STORAGE_PG_DATABASE',
  MIGRATION: 'PB_ERR_STORAGE_PG_MIGRATION',
  UNAVAILABLE: 'PB_ERR_STORAGE_PG_UNAVAILABLE',
  TIMEOUT: 'PB_ERR_STORAGE_PG_TIMEOUT',
  QUERY: 'PB_ERR_STORAGE_PG_QUERY',
  CLOSED: 'PB_ERR_STORAGE_PG_CLOSED',
} as const);

/** Codes shared by every storage backend (documented once, in "Storage plugins"). */
export const StorageErrorCodes = Object.freeze({
  /** A list cursor that no page of this kind produced. */
  BAD_CURSOR: 'PB_ERR_STORAGE_BAD_CURSOR',
  /** A call that breaks the contract (bad state name, state change without a transition, bad address). */
  BAD_REQUEST: 'PB_ERR_STORAGE_BAD_REQUEST',
} as const);

export type PgErrorCode = (typeof PgErrorCodes)[keyof typeof PgErrorCodes] | (typeof StorageErrorCodes)[keyof typeof StorageErrorCodes];

export class PgStoreError extends PurebootError {
  constructor(code: PgErrorCode, message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(code, message, details, cause === undefined ? undefined : { cause });
    this.name = 'PgStoreError';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** What went wrong with a PostgreSQL call, classified for error codes and retries. */
export type FailureKind = 'unavailable' | 'auth' | 'database' | 'timeout' | 'retryable' | 'other';

export function classify(err: unknown): FailureKind {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = typeof e?.message === 'string' ? e.message : '';
  if (NETWORK_CODES.has(code)) return 'unavailable';
  // SQLSTATE class 08 (connection exception), 57P01..03 (shutdown, crash, cannot connect now), 53300 (too many connections)
  if (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return 'unavailable';
  if (code === '28P01' || code === '28000') return 'auth';
  if (code === '3D000') return 'database';
  if (code === '57014') return 'timeout';
  if (code === '40001' || code === '40P01') return 'retryable';
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is not open|Query read timeout|Connection terminated due to connection timeout/i.test(msg)) {
    return /Query read timeout/i.test(msg) ? 'timeout' : 'unavailable';
  }
  return 'other';
}

export function describeCause(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const msg = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
