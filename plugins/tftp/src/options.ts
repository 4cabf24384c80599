import type { JsonSchema } from '@pureboot/core';
import { BLKSIZE_MAX, BLKSIZE_MIN } from './codec/opcodes';

/** A per-client quirk rule: clients it matches get at most these option values. */
export interface QuirkRule {
  /** MAC prefix, lower-case colon form (`00:50:56`), matched when the client's MAC is known. */
  macPrefix?: string;
  /** PXE architecture name (`uefi-x86_64`, `bios` …), matched when known. */
  arch?: string;
  /** Substring of the DHCP vendor class (option 60), matched when known. */
  vendorClass?: string;
  blksizeMax?: number;
  windowsizeMax?: number;
}

export interface TftpOptions {
  address: string;
  port: number;
  /** Largest blksize granted (RFC 2348). */
  blksizeMax: number;
  /** Largest windowsize granted (RFC 7440); 1 disables windowing. */
  windowsizeMax: number;
  /** First retransmission timeout when the client does not negotiate `timeout`. */
  timeoutMs: number;
  /** Each retransmission waits `backoff` times longer than the previous one, up to maxTimeoutMs. */
  backoff: number;
  maxTimeoutMs: number;
  /** Retransmissions of one window before the transfer fails. */
  retries: number;
  /** Concurrent transfers, in total and per client address. */
  maxTransfers: number;
  maxTransfersPerClient: number;
  /** Answer RFC 2349 `tsize` / accept `timeout`. */
  tsize: boolean;
  acceptTimeoutOption: boolean;
  /** Hot-file cache: files up to maxFileBytes are read once and served from memory while unchanged. */
  cache: { maxFileBytes: number; maxBytes: number };
  /** Streamed files are read in chunks of this size (read-ahead). */
  readChunkBytes: number;
  /** Kernel receive buffer of the listening socket (boot storms). */
  recvBufferBytes: number;
  /** After a transfer sends, keep polling this many µs for the client's ACK before sleeping (0: off). */
  busyPollUs: number;
  /** Remembered IP → MAC/arch entries learnt from DHCP boot events. */
  clientMapSize: number;
  quirks: QuirkRule[];
  /** The listener and transfer sockets: the batched native addon (`native`), Node's dgram (`dgram`), or native when it loads (`auto`). */
  transport: 'auto' | 'native' | 'dgram';
  /** Native transport: a turn's sends go out together, and transfer sockets readable at once are read together, on io_uring (where the kernel allows it). */
  ioUring: boolean;
  /** Native transport: the addon answers in-order ACKs of cached octet files itself (native/pilot.h). */
  dataPlane: boolean;
  /** Native transport: transfer sockets kept open ahead of need; finished transfers' sockets are closed once the server is quiet. */
  socketPool: number;
}

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    address: { type: 'string', default: '0.0.0.0', description: 'IPv4 address to listen on.' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 69, description: 'UDP port of the listener (0 = any free port, for tests).' },
    blksizeMax: { type: 'integer', minimum: BLKSIZE_MIN, maximum: BLKSIZE_MAX, default: 1468, description: 'Largest blksize granted; 1468 fills a 1500-byte Ethernet frame.' },
    windowsizeMax: { type: 'integer', minimum: 1, maximum: 32767, default: 64, description: 'Largest RFC 7440 windowsize granted.' },
    timeoutMs: { type: 'integer', minimum: 10, maximum: 255000, default: 1000, description: 'First retransmission timeout unless the client negotiates one.' },
    backoff: { type: 'number', minimum: 1, maximum: 4, default: 2, description: 'Multiplier of the timeout after each retransmission.' },
    maxTimeoutMs: { type: 'integer', minimum: 10, maximum: 255000, default: 8000, description: 'Upper bound of the backed-off timeout.' },
    retries: { type: 'integer', minimum: 0, maximum: 100, default: 6, description: 'Retransmissions of one window before the transfer fails.' },
    maxTransfers: { type: 'integer', minimum: 1, maximum: 100000, default: 1000, description: 'Concurrent transfers in total; beyond it clients get ERROR 0 "server busy".' },
    maxTransfersPerClient: { type: 'integer', minimum: 1, maximum: 100000, default: 8, description: 'Concurrent transfers per client address.' },
    tsize: { type: 'boolean', default: true, description: 'Answer the RFC 2349 tsize option.' },
    acceptTimeoutOption: { type: 'boolean', default: true, description: 'Accept the RFC 2349 timeout option.' },
    cache: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxFileBytes: { type: 'integer', minimum: 0, default: 4194304, description: 'Files up to this size are served from memory (0 disables the cache).' },
        maxBytes: { type: 'integer', minimum: 0, default: 67108864, description: 'Memory for cached files in total.' },
      },
    },
    readChunkBytes: { type: 'integer', minimum: 4096, maximum: 16777216, default: 262144, description: 'Read-ahead chunk for streamed (uncached) files.' },
    recvBufferBytes: { type: 'integer', minimum: 0, maximum: 268435456, default: 4194304, description: 'SO_RCVBUF of the listener (0 = system default).' },
    busyPollUs: {
      type: 'integer',
      minimum: 0,
      maximum: 10000,
      default: 200,
      description: 'After a transfer sends DATA, the event loop keeps polling this many microseconds for the ACK instead of sleeping (user-space busy polling; 0 turns it off).',
    },
    clientMapSize: { type: 'integer', minimum: 0, maximum: 1000000, default: 10000, description: 'IP → MAC entries remembered from DHCP/proxy-DHCP ack events.' },
    quirks: {
      type: 'array',
      default: [],
      description: 'Per-client caps: the first matching rule applies.',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          macPrefix: { type: 'string', pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){0,5}$' },
          arch: { type: 'string', minLength: 1 },
          vendorClass: { type: 'string', minLength: 1 },
          blksizeMax: { type: 'integer', minimum: BLKSIZE_MIN, maximum: BLKSIZE_MAX },
          windowsizeMax: { type: 'integer', minimum: 1, maximum: 32767 },
        },
      },
    },
    transport: {
      enum: ['auto', 'native', 'dgram'],
      default: 'auto',
      description: 'TFTP sockets (listener and transfers): "native" = the batched UDP addon (one JS call per event-loop turn for all received datagrams; Linux), "dgram" = node:dgram, "auto" = native when the addon loads.',
    },
    ioUring: {
      type: 'boolean',
      default: true,
      description: 'Native transport: the datagrams sent while one turn\'s received datagrams are handled go out together with one io_uring system call, and transfer sockets readable at once are read with one, where the kernel allows io_uring (false, or no io_uring: one sendto/recvfrom per datagram).',
    },
    dataPlane: {
      type: 'boolean',
      default: true,
      description: 'Native transport: the addon answers the in-order ACKs of transfers of cached octet files with the next DATA packets itself; JS handles the rest of each transfer (its start and end, timeouts, retransmissions, errors, other TIDs). false: JS answers every ACK.',
    },
    socketPool: {
      type: 'integer',
      minimum: 0,
      maximum: 4096,
      default: 256,
      description: 'Native transport: transfer sockets opened ahead of a boot storm (each still serves one transfer only: a fresh TID); sockets of finished transfers are closed once the server has been quiet for 50 ms. 0: every transfer opens and closes its own.',
    },
  },
};

/** The schema's defaults, for code that builds a server without the kernel (tests, bench). */
export const DEFAULT_OPTIONS: TftpOptions = {
  address: '0.0.0.0',
  port: 69,
  blksizeMax: 1468,
  windowsizeMax: 64,
  timeoutMs: 1000,
  backoff: 2,
  maxTimeoutMs: 8000,
  retries: 6,
  maxTransfers: 1000,
  maxTransfersPerClient: 8,
  tsize: true,
  acceptTimeoutOption: true,
  cache: { maxFileBytes: 4194304, maxBytes: 67108864 },
  readChunkBytes: 262144,
  recvBufferBytes: 4194304,
  busyPollUs: 200,
  clientMapSize: 10000,
  quirks: [],
  transport: 'auto',
  ioUring: true,
  dataPlane: true,
  socketPool: 256,
};
