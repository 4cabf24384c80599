import { PurebootError } from '@pureboot/core';

/** Stable codes of the DHCP codec and server (documented in docs/errors.md). */
export const DhcpErrorCodes = Object.freeze({
  /** The datagram is shorter than the fixed BOOTP header or an option runs past the end. */
  TRUNCATED: 'PB_ERR_DHCP_TRUNCATED',
  /** The magic cookie 99.130.83.99 is missing. */
  BAD_COOKIE: 'PB_ERR_DHCP_BAD_COOKIE',
  /** A header field is out of range (op, hlen > 16). */
  BAD_HEADER: 'PB_ERR_DHCP_BAD_HEADER',
  /** An option is malformed (bad overload value, length not fitting its type, bad sub-options). */
  BAD_OPTION: 'PB_ERR_DHCP_BAD_OPTION',
  /** An option value given to the encoder does not fit the option's type. */
  BAD_VALUE: 'PB_ERR_DHCP_BAD_VALUE',
  /** The encoded message does not fit the maximum message size, even with overload. */
  TOO_LARGE: 'PB_ERR_DHCP_TOO_LARGE',
  /** The DHCP plugin's configuration is inconsistent (overlapping subnets, pool outside its subnet …). */
  CONFIG: 'PB_ERR_DHCP_CONFIG',
  /** SO_BINDTODEVICE failed for a configured interface. */
  BIND_DEVICE: 'PB_ERR_DHCP_BIND_DEVICE',
  /** `pureboot leases …` could not reach the running server or got an error from it. */
  CLI: 'PB_ERR_DHCP_CLI',
  /** The lease store rejected or failed an operation. */
  STORE: 'PB_ERR_DHCP_STORE',
} as const);

export type DhcpErrorCode = (typeof DhcpErrorCodes)[keyof typeof DhcpErrorCodes];

/** A malformed datagram or an unencodable value. Thrown by the codec; the server drops and counts it. */
export class DhcpCodecError extends PurebootError {
  constructor(code: DhcpErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = 'DhcpCodecError';
  }
}
