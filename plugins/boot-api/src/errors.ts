import { PurebootError } from '@pureboot/core';

/** Error codes of the boot API (documented in docs/errors.md, "Boot API"). */
export const BootApiErrorCodes = Object.freeze({
  INVALID_MAC: 'PB_ERR_BOOTAPI_INVALID_MAC',
  NODE_NOT_FOUND: 'PB_ERR_BOOTAPI_NODE_NOT_FOUND',
  NODE_EXISTS: 'PB_ERR_BOOTAPI_NODE_EXISTS',
  TRANSITION: 'PB_ERR_BOOTAPI_TRANSITION',
  CONFLICT: 'PB_ERR_BOOTAPI_CONFLICT',
  UNAUTHORIZED: 'PB_ERR_BOOTAPI_UNAUTHORIZED',
  FORBIDDEN_NETWORK: 'PB_ERR_BOOTAPI_FORBIDDEN_NETWORK',
  TEMPLATE: 'PB_ERR_BOOTAPI_TEMPLATE',
  GROUP_TIE: 'PB_ERR_BOOTAPI_GROUP_TIE',
  PROFILE_NOT_FOUND: 'PB_ERR_BOOTAPI_PROFILE_NOT_FOUND',
  GROUP_NOT_FOUND: 'PB_ERR_BOOTAPI_GROUP_NOT_FOUND',
  PROFILE_IN_USE: 'PB_ERR_BOOTAPI_PROFILE_IN_USE',
  READONLY: 'PB_ERR_BOOTAPI_READONLY',
  INVALID_LABEL: 'PB_ERR_BOOTAPI_INVALID_LABEL',
  NOT_STARTED: 'PB_ERR_BOOTAPI_NOT_STARTED',
  CATALOG_FILE: 'PB_ERR_BOOTAPI_CATALOG_FILE',
  TOKEN_FILE: 'PB_ERR_BOOTAPI_TOKEN_FILE',
  CLI: 'PB_ERR_BOOTAPI_CLI',
} as const);

/** A PurebootError that also says which HTTP status it maps to. */
export class BootApiError extends PurebootError {
  readonly statusCode: number;
  constructor(code: string, statusCode: number, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = 'BootApiError';
    this.statusCode = statusCode;
  }
}
