import { BOOTP_HEADER_SIZE, MAGIC_COOKIE, Opt } from './constants';
import { DhcpCodecError, DhcpErrorCodes } from './errors';
import { ipFromBuffer } from './option-types';
import type { DhcpPacket } from './packet';

const SNAME_OFFSET = 44;
const SNAME_LEN = 64;
const FILE_OFFSET = 108;
const FILE_LEN = 128;
const OPTIONS_OFFSET = BOOTP_HEADER_SIZE + 4;

function truncated(what: string, details: Record<string, unknown> = {}): DhcpCodecError {
  return new DhcpCodecError(DhcpErrorCodes.TRUNCATED, what, details);
}

/** A NUL-terminated field; bytes are taken as latin1 so any byte round-trips. */
function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  const stop = end === -1 || end > start + len ? start + len : end;
  return buf.toString('latin1', start, stop);
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function formatHardwareAddress(buf: Buffer, start: number, len: number): string {
  let out = len > 0 ? HEX[buf[start]] : '';
  for (let i = 1; i < len; i++) out += `:${HEX[buf[start + i]]}`;
  return out;
}

/**
 * Read the options of one area into `acc` (concatenating repeated codes, RFC 3396: a single instance
 * stays a view into the datagram, only split options are copied). Returns option 52's value when found.
 */
function readArea(buf: Buffer, start: number, end: number, area: 'options' | 'file' | 'sname', acc: Map<number, Buffer>): number | undefined {
  let overload: number | undefined;
  let i = start;
  while (i < end) {
    const code = buf[i];
    if (code === Opt.PAD) {
      i++;
      continue;
    }
    if (code === Opt.END) return overload;
    if (i + 1 >= end) throw truncated(`option ${code} in the ${area} area has no length byte`, { option: code, area });
    const len = buf[i + 1];
    if (i + 2 + len > end) throw truncated(`option ${code} in the ${area} area runs past the end (length ${len})`, { option: code, area });
    const data = buf.subarray(i + 2, i + 2 + len);
    if (code === Opt.OVERLOAD) {
      if (area !== 'options') throw new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, `option 52 (overload) inside the ${area} field`, { option: code, area });
      if (len !== 1 || data[0] < 1 || data[0] > 3) throw new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, 'option 52 (overload) must be one byte 1, 2 or 3', { option: code });
      if (overload !== undefined) throw new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, 'option 52 (overload) appears twice', { option: code });
      overload = data[0];
    } else {
      const before = acc.get(code);
      acc.set(code, before === undefined ? data : Buffer.concat([before, data]));
    }
    i += 2 + len;
  }
  // A missing END is tolerated (several embedded clients omit it); the area simply ends.
  return overload;
}

/**
 * Decode one BOOTP/DHCPv4 datagram. Every malformation raises DhcpCodecError (PB_ERR_DHCP_TRUNCATED,
 * PB_ERR_DHCP_BAD_COOKIE, PB_ERR_DHCP_BAD_HEADER or PB_ERR_DHCP_BAD_OPTION) — never anything else.
 * Option payloads are not type-checked here; `getOption` checks them when they are read.
 */
export function parseDhcpPacket(input: Buffer | Uint8Array): DhcpPacket {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length < OPTIONS_OFFSET) {
    if (buf.length >= BOOTP_HEADER_SIZE && buf.length < OPTIONS_OFFSET) throw truncated(`datagram of ${buf.length} bytes ends inside the magic cookie`, { length: buf.length });
    throw truncated(`datagram of ${buf.length} bytes is shorter than the ${OPTIONS_OFFSET}-byte DHCP header`, { length: buf.length });
  }
  const op = buf[0];
  if (op !== 1 && op !== 2) throw new DhcpCodecError(DhcpErrorCodes.BAD_HEADER, `op must be 1 or 2, got ${op}`, { field: 'op', value: op });
  const hlen = buf[2];
  if (hlen > 16) throw new DhcpCodecError(DhcpErrorCodes.BAD_HEADER, `hlen ${hlen} is larger than 16`, { field: 'hlen', value: hlen });
  if (buf.readUInt32BE(BOOTP_HEADER_SIZE) !== MAGIC_COOKIE) {
    throw new DhcpCodecError(DhcpErrorCodes.BAD_COOKIE, `bad magic cookie 0x${buf.readUInt32BE(BOOTP_HEADER_SIZE).toString(16)}`, {});
  }

  const options = new Map<number, Buffer>();
  const overload = readArea(buf, OPTIONS_OFFSET, buf.length, 'options', options) ?? 0;
  // RFC 3396 §5: concatenation order is options, then file, then sname.
  if (overload & 1) readArea(buf, FILE_OFFSET, FILE_OFFSET + FILE_LEN, 'file', options);
  if (overload & 2) readArea(buf, SNAME_OFFSET, SNAME_OFFSET + SNAME_LEN, 'sname', options);

  return {
    op,
    htype: buf[1],
    hlen,
    hops: buf[3],
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ipFromBuffer(buf, 12),
    yiaddr: ipFromBuffer(buf, 16),
    siaddr: ipFromBuffer(buf, 20),
    giaddr: ipFromBuffer(buf, 24),
    chaddr: formatHardwareAddress(buf, 28, hlen),
    sname: overload & 2 ? '' : cString(buf, SNAME_OFFSET, SNAME_LEN),
    file: overload & 1 ? '' : cString(buf, FILE_OFFSET, FILE_LEN),
    options,
  };
}
