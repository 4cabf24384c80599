/** Codes of @pureboot/plugin-tftp (documented in docs/errors.md, section TFTP). */
export const TftpErrorCodes = Object.freeze({
  /** Inconsistent options (e.g. maxTimeoutMs below timeoutMs). */
  OPTIONS: 'PB_ERR_TFTP_OPTIONS',
  /** A resolved file could not be opened or read during a transfer (logged, the client gets an ERROR). */
  READ: 'PB_ERR_TFTP_READ',
  /** A transfer was refused because the global or per-client limit was reached (logged, counted). */
  BUSY: 'PB_ERR_TFTP_BUSY',
  /** A transfer ended because the client stopped answering after every retransmission. */
  TIMEOUT: 'PB_ERR_TFTP_TIMEOUT',
  /** `tftp.transport: native` was configured but the batched UDP addon cannot load (not built, not Linux). */
  NATIVE: 'PB_ERR_TFTP_NATIVE',
} as const);
