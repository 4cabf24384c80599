import { BLKSIZE_MAX, BLKSIZE_MIN, DEFAULT_BLKSIZE, TIMEOUT_MAX, TIMEOUT_MIN, WINDOWSIZE_MIN } from './opcodes';
import type { TftpOption } from './packet';

/** The server's limits for one request (configuration, narrowed by per-client quirk rules). */
export interface NegotiationLimits {
  /** Largest blksize granted (RFC 2348); a larger request is clamped to it. */
  blksizeMax: number;
  /** Largest windowsize granted (RFC 7440); a larger request is clamped to it. */
  windowsizeMax: number;
  /** Answer `tsize` (RFC 2349). */
  tsize: boolean;
  /** Accept the client's `timeout` (RFC 2349). */
  timeout: boolean;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** Retransmission timeout in seconds the client asked for (and we echoed), if any. */
  timeoutSec?: number;
  /** Transfer size reported to the client, if it asked and the size is known. */
  tsize?: number;
  /** OACK options in the order the client sent them; empty = no OACK (plain RFC 1350 transfer). */
  oack: TftpOption[];
  /** Options the client sent that were not granted, with why (for logs). */
  ignored: Array<{ name: string; reason: string }>;
}

const DECIMAL = /^[0-9]{1,10}$/;

/**
 * RFC 2347 negotiation for a read request. Pure: the same request and limits always give the same
 * answer. Only options the client sent can appear in the OACK; unknown or invalid options are
 * ignored (not refused), as RFC 2347 allows.
 *
 * @param size the file's size in bytes when it is known (octet mode), for `tsize`.
 */
export function negotiateRead(options: TftpOption[], limits: NegotiationLimits, size: number | undefined): Negotiated {
  const out: Negotiated = { blksize: DEFAULT_BLKSIZE, windowsize: 1, oack: [], ignored: [] };
  for (const o of options) {
    const n = DECIMAL.test(o.value) ? Number(o.value) : NaN;
    switch (o.name) {
      case 'blksize': {
        if (!Number.isInteger(n) || n < BLKSIZE_MIN) {
          out.ignored.push({ name: o.name, reason: `invalid value "${o.value.slice(0, 16)}"` });
          break;
        }
        out.blksize = Math.min(n, BLKSIZE_MAX, limits.blksizeMax);
        out.oack.push({ name: 'blksize', value: String(out.blksize) });
        break;
      }
      case 'windowsize': {
        if (!Number.isInteger(n) || n < WINDOWSIZE_MIN || limits.windowsizeMax < 1) {
          out.ignored.push({ name: o.name, reason: `invalid value "${o.value.slice(0, 16)}"` });
          break;
        }
        out.windowsize = Math.min(n, limits.windowsizeMax);
        out.oack.push({ name: 'windowsize', value: String(out.windowsize) });
        break;
      }
      case 'timeout': {
        if (!limits.timeout || !Number.isInteger(n) || n < TIMEOUT_MIN || n > TIMEOUT_MAX) {
          out.ignored.push({ name: o.name, reason: limits.timeout ? `invalid value "${o.value.slice(0, 16)}"` : 'disabled' });
          break;
        }
        // RFC 2349: the server must answer with the same value or not at all.
        out.timeoutSec = n;
        out.oack.push({ name: 'timeout', value: String(n) });
        break;
      }
      case 'tsize': {
        // In a read request the client sends 0; any decimal is accepted as "please tell me".
        if (!limits.tsize || size === undefined || !Number.isInteger(n)) {
          out.ignored.push({ name: o.name, reason: size === undefined ? 'size unknown' : limits.tsize ? `invalid value "${o.value.slice(0, 16)}"` : 'disabled' });
          break;
        }
        out.tsize = size;
        out.oack.push({ name: 'tsize', value: String(size) });
        break;
      }
      default:
        out.ignored.push({ name: o.name.slice(0, 32), reason: 'unknown option' });
    }
  }
  return out;
}
