import { Opcode } from './opcodes';

/** One decoded TFTP datagram. Option names are lower-cased; values are kept as sent. */
export type TftpPacket =
  | { op: 'RRQ' | 'WRQ'; filename: string; mode: TransferMode; options: TftpOption[] }
  | { op: 'DATA'; block: number; data: Buffer }
  | { op: 'ACK'; block: number }
  | { op: 'ERROR'; code: number; message: string }
  | { op: 'OACK'; options: TftpOption[] };

export type TransferMode = 'octet' | 'netascii' | 'mail';

export interface TftpOption {
  /** Lower-cased option name. */
  name: string;
  value: string;
}

export type ParseResult = { ok: true; packet: TftpPacket } | { ok: false; reason: string };

/** Longest filename accepted in a request (bytes before the NUL). */
export const MAX_FILENAME_BYTES = 1024;
/** At most this many options in one request (a request carries a handful; more is hostile). */
export const MAX_OPTIONS = 32;

const MODES: Record<string, TransferMode> = { octet: 'octet', netascii: 'netascii', mail: 'mail' };

/**
 * Parse one datagram. Never throws: anything malformed is `{ok:false, reason}`.
 * Strings are decoded as latin1 so every byte maps to one character (filenames may be any bytes).
 */
export function parsePacket(buf: Buffer): ParseResult {
  if (buf.length < 2) return { ok: false, reason: 'datagram shorter than an opcode' };
  const op = buf.readUInt16BE(0);
  switch (op) {
    case Opcode.RRQ:
    case Opcode.WRQ:
      return parseRequest(buf, op === Opcode.RRQ ? 'RRQ' : 'WRQ');
    case Opcode.DATA:
      if (buf.length < 4) return { ok: false, reason: 'DATA shorter than 4 bytes' };
      return { ok: true, packet: { op: 'DATA', block: buf.readUInt16BE(2), data: buf.subarray(4) } };
    case Opcode.ACK:
      if (buf.length < 4) return { ok: false, reason: 'ACK shorter than 4 bytes' };
      // Trailing bytes after the block number are tolerated (some ROMs pad ACKs).
      return { ok: true, packet: { op: 'ACK', block: buf.readUInt16BE(2) } };
    case Opcode.ERROR: {
      if (buf.length < 4) return { ok: false, reason: 'ERROR shorter than 4 bytes' };
      const end = buf.indexOf(0, 4);
      const message = buf.toString('latin1', 4, end === -1 ? buf.length : end);
      return { ok: true, packet: { op: 'ERROR', code: buf.readUInt16BE(2), message } };
    }
    case Opcode.OACK: {
      const fields = splitStrings(buf, 2);
      if (!fields.ok) return fields;
      if (fields.strings.length % 2 !== 0) return { ok: false, reason: 'OACK option without a value' };
      const options: TftpOption[] = [];
      for (let i = 0; i < fields.strings.length; i += 2) options.push({ name: fields.strings[i].toLowerCase(), value: fields.strings[i + 1] });
      return { ok: true, packet: { op: 'OACK', options } };
    }
    default:
      return { ok: false, reason: `unknown opcode ${op}` };
  }
}

/**
 * The block number of an ACK datagram, or -1 for anything else — the same verdict as parsePacket
 * (4 bytes or more, trailing bytes tolerated), without building a packet object: the per-ACK path.
 */
export function ackBlock(buf: Buffer): number {
  return buf.length >= 4 && buf[0] === 0 && buf[1] === Opcode.ACK ? (buf[2] << 8) | buf[3] : -1;
}

function parseRequest(buf: Buffer, op: 'RRQ' | 'WRQ'): ParseResult {
  const fields = splitStrings(buf, 2);
  if (!fields.ok) return fields;
  const s = fields.strings;
  if (s.length < 2) return { ok: false, reason: `${op} without filename and mode` };
  // Each byte of a latin1-decoded string is one character: the filename's bytes end at 2 + its length.
  const nameEnd = 2 + s[0].length;
  if (nameEnd - 2 === 0) return { ok: false, reason: `${op} with an empty filename` };
  if (nameEnd - 2 > MAX_FILENAME_BYTES) return { ok: false, reason: `${op} filename longer than ${MAX_FILENAME_BYTES} bytes` };
  const filename = decodeFilename(buf, 2, nameEnd, s[0]);
  const mode = MODES[s[1].toLowerCase()];
  if (!mode) return { ok: false, reason: `${op} with unknown mode "${s[1].slice(0, 32)}"` };
  const rest = s.slice(2);
  // RFC 2347: options come in pairs; a lone trailing string (some ROMs pad with a NUL) is ignored.
  const pairs = Math.floor(rest.length / 2);
  if (pairs > MAX_OPTIONS) return { ok: false, reason: `${op} with more than ${MAX_OPTIONS} options` };
  const options: TftpOption[] = [];
  for (let i = 0; i < pairs; i++) {
    const name = rest[2 * i].toLowerCase();
    if (name.length === 0) return { ok: false, reason: `${op} with an empty option name` };
    if (options.some((o) => o.name === name)) return { ok: false, reason: `${op} repeats option "${name.slice(0, 32)}"` };
    options.push({ name, value: rest[2 * i + 1] });
  }
  return { ok: true, packet: { op, filename, mode, options } };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Filenames are bytes on the wire. Valid UTF-8 (what Linux clients send for non-ASCII names, and what
 * Node's fs expects) is decoded as UTF-8; anything else as latin1, one character per byte. `latin1` is
 * the same bytes already decoded as latin1 (the answer for an ASCII name).
 */
function decodeFilename(buf: Buffer, start: number, end: number, latin1: string): string {
  let ascii = true;
  for (let i = start; i < end; i++) if (buf[i] >= 0x80) ascii = false;
  if (ascii) return latin1;
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    return latin1;
  }
}

/** Bytes as latin1 text. Short fields (modes, option names and values) are decoded here, in JS: a
 * `toString` call into C++ costs more than the few characters themselves. */
function latin1Text(buf: Buffer, start: number, end: number): string {
  if (end - start > 32) return buf.toString('latin1', start, end);
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** NUL-terminated strings from `start` to the end; the last one must be terminated. */
function splitStrings(buf: Buffer, start: number): { ok: true; strings: string[] } | { ok: false; reason: string } {
  const strings: string[] = [];
  const n = buf.length;
  let pos = start;
  while (pos < n) {
    let end = pos;
    while (end < n && buf[end] !== 0) end++;
    if (end === n) return { ok: false, reason: 'string not NUL-terminated' };
    strings.push(latin1Text(buf, pos, end));
    pos = end + 1;
  }
  return { ok: true, strings };
}

// ---------------------------------------------------------------- serialize

/** Opcode + NUL-terminated strings; the first `utf8Parts` strings are written as UTF-8, the rest latin1. */
function strings(op: number, parts: string[], utf8Parts = 0): Buffer {
  let len = 2;
  for (let i = 0; i < parts.length; i++) len += (i < utf8Parts ? Buffer.byteLength(parts[i], 'utf8') : parts[i].length) + 1;
  const out = Buffer.allocUnsafe(len);
  out[0] = (op >> 8) & 0xff;
  out[1] = op & 0xff;
  let pos = 2;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i < utf8Parts) pos += out.write(p, pos, 'utf8');
    else for (let j = 0; j < p.length; j++) out[pos++] = p.charCodeAt(j) & 0xff; // latin1: the low byte
    out[pos++] = 0;
  }
  return out;
}

/** The filename is written as UTF-8 (ASCII names are the same bytes either way). */
export function serializeRequest(op: 'RRQ' | 'WRQ', filename: string, mode: TransferMode, options: TftpOption[] = []): Buffer {
  return strings(op === 'RRQ' ? Opcode.RRQ : Opcode.WRQ, [filename, mode, ...options.flatMap((o) => [o.name, o.value])], 1);
}

/** Write a DATA header (opcode, 16-bit block number) at `at`; the data follows from at + 4. */
export function writeDataHeader(buf: Buffer, at: number, block: number): void {
  buf[at] = 0;
  buf[at + 1] = Opcode.DATA;
  buf[at + 2] = (block >> 8) & 0xff;
  buf[at + 3] = block & 0xff;
}

/** DATA with a 16-bit block number (the caller wraps it: `absolute & 0xffff`). */
export function serializeData(block: number, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + data.length);
  writeDataHeader(out, 0, block & 0xffff);
  data.copy(out, 4);
  return out;
}

export function serializeAck(block: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt16BE(Opcode.ACK, 0);
  out.writeUInt16BE(block & 0xffff, 2);
  return out;
}

export function serializeError(code: number, message: string): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(Opcode.ERROR, 0);
  head.writeUInt16BE(code & 0xffff, 2);
  // Messages are ASCII; anything else is replaced so the datagram stays well-formed.
  // eslint-disable-next-line no-control-regex
  const text = message.replace(/[^\x20-\x7e]/g, '?').slice(0, 255);
  return Buffer.concat([head, Buffer.from(text, 'latin1'), Buffer.from([0])]);
}

export function serializeOack(options: TftpOption[]): Buffer {
  return strings(Opcode.OACK, options.flatMap((o) => [o.name, o.value]));
}

export function serializePacket(p: TftpPacket): Buffer {
  switch (p.op) {
    case 'RRQ':
    case 'WRQ':
      return serializeRequest(p.op, p.filename, p.mode, p.options);
    case 'DATA':
      return serializeData(p.block, p.data);
    case 'ACK':
      return serializeAck(p.block);
    case 'ERROR':
      return serializeError(p.code, p.message);
    case 'OACK':
      return serializeOack(p.options);
  }
}
