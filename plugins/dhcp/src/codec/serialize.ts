import { BOOTP_HEADER_SIZE, MAGIC_COOKIE, Opt } from './constants';
import { DhcpCodecError, DhcpErrorCodes } from './errors';
import { badValue, ipToBuffer } from './option-types';
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

function latin1Field(name: string, v: unknown, max: number): Buffer {
  if (typeof v !== 'string') throw badValue(name, `header field ${name} must be a string`);
  // eslint-disable-next-line no-control-regex
  if (/[^\x01-\xff]/.test(v)) throw badValue(name, `header field ${name} must be latin1 text without NUL`);
  if (v.length > max) throw badValue(name, `header field ${name} is longer than ${max} bytes`);
  return Buffer.from(v, 'latin1');
}

function hardwareAddress(v: unknown): Buffer {
  if (typeof v !== 'string') throw badValue('chaddr', 'chaddr must be a hex string');
  const hex = v.replace(/[:-]/g, '');
  if (hex.length % 2 !== 0 || hex.length > 32 || !/^[0-9a-fA-F]*$/.test(hex)) throw badValue('chaddr', `chaddr is not up to 16 hex bytes: ${v}`);
  return Buffer.from(hex, 'hex');
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
  const header = Buffer.alloc(BOOTP_HEADER_SIZE + 4);
  header[0] = uintField('op', p.op, 255);
  header[1] = uintField('htype', p.htype, 255);
  header[2] = uintField('hlen', p.hlen, 16);
  header[3] = uintField('hops', p.hops, 255);
  header.writeUInt32BE(uintField('xid', p.xid, 0xffffffff), 4);
  header.writeUInt16BE(uintField('secs', p.secs, 0xffff), 8);
  header.writeUInt16BE(uintField('flags', p.flags, 0xffff), 10);
  ipToBuffer(p.ciaddr, 'ciaddr').copy(header, 12);
  ipToBuffer(p.yiaddr, 'yiaddr').copy(header, 16);
  ipToBuffer(p.siaddr, 'siaddr').copy(header, 20);
  ipToBuffer(p.giaddr, 'giaddr').copy(header, 24);
  const hw = hardwareAddress(p.chaddr);
  if (hw.length !== p.hlen) throw badValue('chaddr', `chaddr has ${hw.length} bytes but hlen is ${p.hlen}`);
  hw.copy(header, 28);
  const sname = latin1Field('sname', p.sname, 64);
  const file = latin1Field('file', p.file, 128);
  sname.copy(header, 44);
  file.copy(header, 108);
  header.writeUInt32BE(MAGIC_COOKIE, BOOTP_HEADER_SIZE);

  const instances: Instance[] = [];
  let total = 0;
  for (const [code, data] of p.options) {
    if (!Number.isInteger(code) || code <= Opt.PAD || code >= Opt.END || code === Opt.OVERLOAD) throw badValue(code, 'option code must be 1..254 and not 52 (overload is added by the encoder)');
    if (!Buffer.isBuffer(data)) throw badValue(code, 'option payload must be a Buffer');
    if (data.length === 0) {
      instances.push({ code, data });
      total += 2;
    }
    for (let i = 0; i < data.length; i += 255) {
      const chunk = data.subarray(i, i + 255);
      instances.push({ code, data: chunk });
      total += 2 + chunk.length;
    }
  }

  const max = opts.maxSize ?? Number.POSITIVE_INFINITY;
  const mainCap = max - header.length - 1;
  let body: Buffer[];
  if (total <= mainCap) {
    body = [];
    for (const inst of instances) body.push(Buffer.from([inst.code, inst.data.length]), inst.data);
    body.push(Buffer.from([Opt.END]));
  } else {
    const queue = instances.slice();
    const main = fill(queue, mainCap - 3);
    let overload = 0;
    if (queue.length > 0 && file.length === 0) {
      const parts = fill(queue, 127);
      parts.push(Buffer.from([Opt.END]));
      Buffer.concat(parts).copy(header, 108);
      overload |= 1;
    }
    if (queue.length > 0 && sname.length === 0) {
      const parts = fill(queue, 63);
      parts.push(Buffer.from([Opt.END]));
      Buffer.concat(parts).copy(header, 44);
      overload |= 2;
    }
    if (queue.length > 0 || mainCap < 3) {
      throw new DhcpCodecError(DhcpErrorCodes.TOO_LARGE, `options need ${total} bytes; they do not fit a ${max}-byte message even with overload`, { maxSize: max, optionBytes: total });
    }
    body = [Buffer.from([Opt.OVERLOAD, 1, overload]), ...main, Buffer.from([Opt.END])];
  }
  const out = Buffer.concat([header, ...body]);
  if (out.length >= MIN_BOOTP_SIZE) return out;
  const padded = Buffer.alloc(MIN_BOOTP_SIZE);
  out.copy(padded);
  return padded;
}
