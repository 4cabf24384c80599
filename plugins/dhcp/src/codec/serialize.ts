import { BOOTP_HEADER_SIZE, MAGIC_COOKIE, Opt } from './constants';
import { DhcpCodecError, DhcpErrorCodes } from './errors';
import { badValue, parseIpv4 } from './option-types';
import type { DhcpPacket } from './packet';

/** BOOTP relay agents and old clients expect at least 300 bytes (RFC 1542 §3.1.1 / RFC 951). */
export const MIN_BOOTP_SIZE = 300;

export interface SerializeOptions {
  /**
   * Largest DHCP message (UDP payload) allowed. When the options do not fit, the file and sname
   * fields carry options too (option 52), if they are empty; beyond that PB_ERR_DHCP_TOO_LARGE.
   * Default: no limit (no overload).
   */
  maxSize?: number;
}

function uintField(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw badValue(name, `header field ${name} must be an integer 0..${max}`);
  return v;
}

function latin1Field(name: string, v: unknown, max: number): string {
  if (typeof v !== 'string') throw badValue(name, `header field ${name} must be a string`);
  if (v.length === 0) return v;
  // eslint-disable-next-line no-control-regex
  if (/[^\x01-\xff]/.test(v)) throw badValue(name, `header field ${name} must be latin1 text without NUL`);
  if (v.length > max) throw badValue(name, `header field ${name} is longer than ${max} bytes`);
  return v;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Write chaddr (hex, ':' or '-' separators allowed) at `offset`; returns its length in bytes. */
function writeHardwareAddress(v: unknown, out: Buffer, offset: number): number {
  if (typeof v !== 'string') throw badValue('chaddr', 'chaddr must be a hex string');
  let n = 0;
  let high = -1;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 58 || c === 45) continue;
    const d = hexDigit(c);
    if (d < 0 || n === 16) throw badValue('chaddr', `chaddr is not up to 16 hex bytes: ${v}`);
    if (high < 0) high = d;
    else {
      out[offset + n++] = high * 16 + d;
      high = -1;
    }
  }
  if (high >= 0) throw badValue('chaddr', `chaddr is not up to 16 hex bytes: ${v}`);
  return n;
}

function writeIp(name: string, v: unknown, out: Buffer, offset: number): void {
  const n = parseIpv4(v);
  if (n < 0) throw badValue(name, `not an IPv4 address: ${String(v)}`);
  out.writeUInt32BE(n, offset);
}

interface Instance {
  code: number;
  data: Buffer;
}

/** Lay option instances out in one area of `cap` bytes (END excluded), splitting an instance that straddles it (RFC 3396). */
function fill(queue: Instance[], cap: number): Buffer[] {
  const out: Buffer[] = [];
  let room = cap;
  while (queue.length > 0) {
    const inst = queue[0];
    const need = 2 + inst.data.length;
    if (need <= room) {
      out.push(Buffer.from([inst.code, inst.data.length]), inst.data);
      room -= need;
      queue.shift();
    } else if (room >= 3 && inst.data.length > 0) {
      const take = room - 2;
      out.push(Buffer.from([inst.code, take]), inst.data.subarray(0, take));
      queue[0] = { code: inst.code, data: inst.data.subarray(take) };
      room = 0;
      break;
    } else {
      break;
    }
  }
  return out;
}

/** Encode a packet. Values are validated; a bad one raises DhcpCodecError(PB_ERR_DHCP_BAD_VALUE). */
export function serializeDhcpPacket(p: DhcpPacket, opts: SerializeOptions = {}): Buffer {
  const sname = latin1Field('sname', p.sname, 64);
  const file = latin1Field('file', p.file, 128);
  let total = 0;
  for (const [code, data] of p.options) {
    if (!Number.isInteger(code) || code <= Opt.PAD || code >= Opt.END || code === Opt.OVERLOAD) throw badValue(code, 'option code must be 1..254 and not 52 (overload is added by the encoder)');
    if (!Buffer.isBuffer(data)) throw badValue(code, 'option payload must be a Buffer');
    total += 2 * (data.length === 0 ? 1 : Math.ceil(data.length / 255)) + data.length;
  }
  const HEAD = BOOTP_HEADER_SIZE + 4;
  const max = opts.maxSize ?? Number.POSITIVE_INFINITY;
  const mainCap = max - HEAD - 1;
  // The common case: every option fits the options area; one buffer, written in place.
  const size = total <= mainCap ? Math.max(MIN_BOOTP_SIZE, HEAD + total + 1) : Math.max(MIN_BOOTP_SIZE, max);
  const out = Buffer.alloc(size);
  out[0] = uintField('op', p.op, 255);
  out[1] = uintField('htype', p.htype, 255);
  out[2] = uintField('hlen', p.hlen, 16);
  out[3] = uintField('hops', p.hops, 255);
  out.writeUInt32BE(uintField('xid', p.xid, 0xffffffff), 4);
  out.writeUInt16BE(uintField('secs', p.secs, 0xffff), 8);
  out.writeUInt16BE(uintField('flags', p.flags, 0xffff), 10);
  writeIp('ciaddr', p.ciaddr, out, 12);
  writeIp('yiaddr', p.yiaddr, out, 16);
  writeIp('siaddr', p.siaddr, out, 20);
  writeIp('giaddr', p.giaddr, out, 24);
  const hwLength = writeHardwareAddress(p.chaddr, out, 28);
  if (hwLength !== p.hlen) throw badValue('chaddr', `chaddr has ${hwLength} bytes but hlen is ${p.hlen}`);
  if (sname.length) out.write(sname, 44, 'latin1');
  if (file.length) out.write(file, 108, 'latin1');
  out.writeUInt32BE(MAGIC_COOKIE, BOOTP_HEADER_SIZE);

  if (total <= mainCap) {
    let o = HEAD;
    for (const [code, data] of p.options) {
      if (data.length === 0) {
        out[o++] = code;
        out[o++] = 0;
        continue;
      }
      for (let i = 0; i < data.length; i += 255) {
        const len = Math.min(255, data.length - i);
        out[o++] = code;
        out[o++] = len;
        out.set(i === 0 && len === data.length ? data : data.subarray(i, i + len), o);
        o += len;
      }
    }
    out[o] = Opt.END;
    return out;
  }

  // Overload (RFC 2132 §9.3): the file, then the sname field carry what does not fit.
  const queue: Instance[] = [];
  for (const [code, data] of p.options) {
    if (data.length === 0) queue.push({ code, data });
    for (let i = 0; i < data.length; i += 255) queue.push({ code, data: data.subarray(i, i + 255) });
  }
  const main = fill(queue, mainCap - 3);
  let overload = 0;
  if (queue.length > 0 && file.length === 0) {
    const parts = fill(queue, 127);
    parts.push(Buffer.from([Opt.END]));
    Buffer.concat(parts).copy(out, 108);
    overload |= 1;
  }
  if (queue.length > 0 && sname.length === 0) {
    const parts = fill(queue, 63);
    parts.push(Buffer.from([Opt.END]));
    Buffer.concat(parts).copy(out, 44);
    overload |= 2;
  }
  if (queue.length > 0 || mainCap < 3) {
    throw new DhcpCodecError(DhcpErrorCodes.TOO_LARGE, `options need ${total} bytes; they do not fit a ${max}-byte message even with overload`, { maxSize: max, optionBytes: total });
  }
  const body = Buffer.concat([Buffer.from([Opt.OVERLOAD, 1, overload]), ...main, Buffer.from([Opt.END])]);
  body.copy(out, HEAD);
  const used = HEAD + body.length;
  return used >= MIN_BOOTP_SIZE ? out.subarray(0, used) : out.subarray(0, MIN_BOOTP_SIZE);
}
