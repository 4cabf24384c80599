/** TFTP opcodes (RFC 1350, RFC 2347 OACK). */
export const Opcode = Object.freeze({
  RRQ: 1,
  WRQ: 2,
  DATA: 3,
  ACK: 4,
  ERROR: 5,
  OACK: 6,
} as const);
export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];

export const OPCODE_NAMES: Record<number, string> = { 1: 'RRQ', 2: 'WRQ', 3: 'DATA', 4: 'ACK', 5: 'ERROR', 6: 'OACK' };

/** TFTP error codes (RFC 1350, RFC 2347 code 8). */
export const TftpErrorCode = Object.freeze({
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const);

/** Largest and smallest block sizes of RFC 2348. */
export const BLKSIZE_MIN = 8;
export const BLKSIZE_MAX = 65464;
export const DEFAULT_BLKSIZE = 512;
/** RFC 7440 windowsize range. */
export const WINDOWSIZE_MIN = 1;
export const WINDOWSIZE_MAX = 65535;
/** RFC 2349 timeout range, seconds. */
export const TIMEOUT_MIN = 1;
export const TIMEOUT_MAX = 255;
