import { PurebootError } from '@pureboot/core';

/** Stable codes of the proxy-DHCP plugin (documented in docs/errors.md, section "Proxy DHCP"). */
export const ProxyDhcpErrorCodes = Object.freeze({
  /** The plugin's options are inconsistent (no usable server address, a bad rule, a bad menu). */
  CONFIG: 'PB_ERR_PROXY_CONFIG',
  /** proxy-dhcp.interface does not exist (broadcast answers cannot be pinned to it). */
  BIND_DEVICE: 'PB_ERR_PROXY_BIND_DEVICE',
  /** A reply could not be encoded (a boot file name or option value that does not fit). */
  ENCODE: 'PB_ERR_PROXY_ENCODE',
} as const);

export type ProxyDhcpErrorCode = (typeof ProxyDhcpErrorCodes)[keyof typeof ProxyDhcpErrorCodes];

export class ProxyDhcpError extends PurebootError {
  constructor(code: ProxyDhcpErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = 'ProxyDhcpError';
  }
}
