import { ipToInt } from '@pureboot/core';
import { DhcpCodecError, DhcpErrorCodes } from './errors';

/**
 * Value codecs for DHCP option payloads. Each type turns the raw bytes of one (already concatenated,
 * RFC 3396) option into a JSON-friendly value and back. Decoders check lengths strictly and throw
 * DhcpCodecError(PB_ERR_DHCP_BAD_OPTION); encoders check values and throw PB_ERR_DHCP_BAD_VALUE.
 */
export interface OptionType<T = unknown> {
  readonly name: string;
  decode(buf: Buffer, code: number): T;
  encode(value: unknown, code: number): Buffer;
}

function badOption(code: number, what: string): DhcpCodecError {
  return new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, `option ${code}: ${what}`, { option: code });
}
export function badValue(code: number | string, what: string): DhcpCodecError {
  return new DhcpCodecError(DhcpErrorCodes.BAD_VALUE, `option ${code}: ${what}`, { option: code });
}

export function ipFromBuffer(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number, or -1 when it is not one (core's ipToInt rules). */
export function parseIpv4(ip: unknown): number {
  if (typeof ip !== 'string') return -1;
  try {
    return ipToInt(ip);
  } catch {
    return -1;
  }
}

export function ipToBuffer(ip: unknown, code: number | string): Buffer {
  const v = parseIpv4(ip);
  if (v < 0) throw badValue(code, `not an IPv4 address: ${String(ip)}`);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v, 0);
  return b;
}

function uint(code: number, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw badValue(code, `expected an integer 0..${max}, got ${String(value)}`);
  return value;
}

/** Bytes from a Buffer, a Uint8Array, or a hex string (colons allowed). */
export function toBytes(value: unknown, code: number | string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string') {
    const hex = value.replace(/[:\-\s]/g, '');
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw badValue(code, `not a hex string: ${value}`);
    return Buffer.from(hex, 'hex');
  }
  throw badValue(code, 'expected bytes (Buffer or hex string)');
}

function fixed(code: number, buf: Buffer, len: number): void {
  if (buf.length !== len) throw badOption(code, `expected ${len} bytes, got ${buf.length}`);
}

export const T = {
  ip: {
    name: 'ip',
    decode(buf, code) {
      fixed(code, buf, 4);
      return ipFromBuffer(buf, 0);
    },
    encode: (v, code) => ipToBuffer(v, code),
  } as OptionType<string>,
  ips: {
    name: 'ips',
    decode(buf, code) {
      if (buf.length === 0 || buf.length % 4 !== 0) throw badOption(code, `length ${buf.length} is not a non-zero multiple of 4`);
      const out: string[] = [];
      for (let i = 0; i < buf.length; i += 4) out.push(ipFromBuffer(buf, i));
      return out;
    },
    encode(v, code) {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.length === 0) throw badValue(code, 'expected a list of IPv4 addresses');
      return Buffer.concat(list.map((ip) => ipToBuffer(ip, code)));
    },
  } as OptionType<string[]>,
  /** Pairs of addresses (static routes 33, policy filter 21). */
  ipPairs: {
    name: 'ipPairs',
    decode(buf, code) {
      if (buf.length === 0 || buf.length % 8 !== 0) throw badOption(code, `length ${buf.length} is not a non-zero multiple of 8`);
      const out: [string, string][] = [];
      for (let i = 0; i < buf.length; i += 8) out.push([ipFromBuffer(buf, i), ipFromBuffer(buf, i + 4)]);
      return out;
    },
    encode(v, code) {
      if (!Array.isArray(v) || v.length === 0) throw badValue(code, 'expected a list of [ip, ip] pairs');
      return Buffer.concat(
        v.map((p: unknown) => {
          if (!Array.isArray(p) || p.length !== 2) throw badValue(code, 'expected [ip, ip]');
          return Buffer.concat([ipToBuffer(p[0], code), ipToBuffer(p[1], code)]);
        }),
      );
    },
  } as OptionType<[string, string][]>,
  u8: {
    name: 'u8',
    decode(buf, code) {
      fixed(code, buf, 1);
      return buf[0];
    },
    encode: (v, code) => Buffer.from([uint(code, v, 0xff)]),
  } as OptionType<number>,
  bool: {
    name: 'bool',
    decode(buf, code) {
      fixed(code, buf, 1);
      if (buf[0] > 1) throw badOption(code, `boolean must be 0 or 1, got ${buf[0]}`);
      return buf[0] === 1;
    },
    encode(v, code) {
      if (typeof v !== 'boolean') throw badValue(code, 'expected a boolean');
      return Buffer.from([v ? 1 : 0]);
    },
  } as OptionType<boolean>,
  u16: {
    name: 'u16',
    decode(buf, code) {
      fixed(code, buf, 2);
      return buf.readUInt16BE(0);
    },
    encode(v, code) {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(uint(code, v, 0xffff));
      return b;
    },
  } as OptionType<number>,
  u32: {
    name: 'u32',
    decode(buf, code) {
      fixed(code, buf, 4);
      return buf.readUInt32BE(0);
    },
    encode(v, code) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(uint(code, v, 0xffffffff));
      return b;
    },
  } as OptionType<number>,
  i32: {
    name: 'i32',
    decode(buf, code) {
      fixed(code, buf, 4);
      return buf.readInt32BE(0);
    },
    encode(v, code) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw badValue(code, 'expected a signed 32-bit integer');
      const b = Buffer.alloc(4);
      b.writeInt32BE(v);
      return b;
    },
  } as OptionType<number>,
  u8s: {
    name: 'u8s',
    decode(buf, code) {
      if (buf.length === 0) throw badOption(code, 'empty list');
      return [...buf];
    },
    encode(v, code) {
      if (!Array.isArray(v) || v.length === 0) throw badValue(code, 'expected a list of bytes');
      return Buffer.from(v.map((x) => uint(code, x, 0xff)));
    },
  } as OptionType<number[]>,
  u16s: {
    name: 'u16s',
    decode(buf, code) {
      if (buf.length === 0 || buf.length % 2 !== 0) throw badOption(code, `length ${buf.length} is not a non-zero multiple of 2`);
      const out: number[] = [];
      for (let i = 0; i < buf.length; i += 2) out.push(buf.readUInt16BE(i));
      return out;
    },
    encode(v, code) {
      const list = typeof v === 'number' ? [v] : v;
      if (!Array.isArray(list) || list.length === 0) throw badValue(code, 'expected a list of 16-bit integers');
      const b = Buffer.alloc(list.length * 2);
      list.forEach((x, i) => b.writeUInt16BE(uint(code, x, 0xffff), i * 2));
      return b;
    },
  } as OptionType<number[]>,
  /** NVT ASCII / UTF-8 text; a trailing NUL some clients add is dropped. */
  string: {
    name: 'string',
    decode(buf, code) {
      if (buf.length === 0) throw badOption(code, 'empty string');
      let end = buf.length;
      while (end > 0 && buf[end - 1] === 0) end--;
      return buf.subarray(0, end).toString('utf8');
    },
    encode(v, code) {
      if (typeof v !== 'string' || v.length === 0) throw badValue(code, 'expected a non-empty string');
      return Buffer.from(v, 'utf8');
    },
  } as OptionType<string>,
  /** Opaque bytes as a lower-case hex string. */
  bytes: {
    name: 'bytes',
    decode: (buf) => buf.toString('hex'),
    encode: (v, code) => toBytes(v, code),
  } as OptionType<string>,
} satisfies Record<string, OptionType>;
