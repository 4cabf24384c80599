import { PurebootError } from '@pureboot/core';

/** Error codes of the iPXE builder (documented in docs/errors.md, "iPXE builder and backends"). */
export const IpxeErrorCodes = Object.freeze({
  INVALID_INPUT: 'PB_ERR_IPXE_INVALID_INPUT',
  BUILD_NOT_FOUND: 'PB_ERR_IPXE_BUILD_NOT_FOUND',
  NOT_READY: 'PB_ERR_IPXE_NOT_READY',
  QUEUE_FULL: 'PB_ERR_IPXE_QUEUE_FULL',
  TIMEOUT: 'PB_ERR_IPXE_BUILD_TIMEOUT',
  CANCELLED: 'PB_ERR_IPXE_BUILD_CANCELLED',
  CACHE: 'PB_ERR_IPXE_CACHE',
  CLI: 'PB_ERR_IPXE_CLI',
} as const);

/** A PurebootError that also says which HTTP status it maps to. */
export class IpxeError extends PurebootError {
  readonly statusCode: number;
  constructor(code: string, statusCode: number, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = 'IpxeError';
    this.statusCode = statusCode;
  }
}

export function invalid(message: string): IpxeError {
  return new IpxeError(IpxeErrorCodes.INVALID_INPUT, 400, message);
}
