import zlib from 'node:zlib';

/**
 * Framing of journal and snapshot records (pure functions, no I/O).
 *
 *   file   = magic (8 bytes) · record*
 *   record = u32le payload length · u32le crc32(payload) · u32le crc32(first 8 header bytes) · payload
 *
 * The header checksum tells a damaged length apart from a record cut short by a crash: a record whose
 * header is intact but whose payload runs past the end of the file is a torn tail (a crash while
 * appending), while a bad header or bad payload followed by more data is corruption.
 */
export const RECORD_HEADER = 12;
export const MAX_RECORD = 256 * 1024 * 1024;
export const JOURNAL_MAGIC = Buffer.from('PBJRNL01', 'latin1');
export const SNAPSHOT_MAGIC = Buffer.from('PBSNAP01', 'latin1');
export const FILE_HEADER = 8;

export function encodeRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(zlib.crc32(payload), 4);
  out.writeUInt32LE(zlib.crc32(out.subarray(0, 8)), 8);
  payload.copy(out, RECORD_HEADER);
  return out;
}

export interface ScannedRecord {
  offset: number;
  payload: Buffer;
}

export type ScanResult =
  | { ok: true; records: ScannedRecord[]; /** Bytes of complete records (incl. the file header). */ validEnd: number; torn?: { offset: number; reason: string } }
  | { ok: false; offset: number; reason: string };

function zeroFrom(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Read every complete record after the file header. A damaged or incomplete LAST record is reported
 * as `torn` (the caller truncates it); damage with valid data after it is `ok: false`.
 */
export function scanRecords(buf: Buffer, magic: Buffer): ScanResult {
  if (buf.length < FILE_HEADER) {
    if (buf.length === 0 || magic.subarray(0, buf.length).equals(buf)) return { ok: true, records: [], validEnd: 0, torn: buf.length ? { offset: 0, reason: 'file header cut short' } : undefined };
    return { ok: false, offset: 0, reason: 'not a PureBoot storage file (bad magic)' };
  }
  if (!buf.subarray(0, FILE_HEADER).equals(magic)) return { ok: false, offset: 0, reason: 'not a PureBoot storage file (bad magic)' };
  const records: ScannedRecord[] = [];
  let off = FILE_HEADER;
  while (off < buf.length) {
    if (buf.length - off < RECORD_HEADER) return { ok: true, records, validEnd: off, torn: { offset: off, reason: 'record header cut short' } };
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    const hcrc = buf.readUInt32LE(off + 8);
    if (zlib.crc32(buf.subarray(off, off + 8)) !== hcrc) {
      if (zeroFrom(buf, off)) return { ok: true, records, validEnd: off, torn: { offset: off, reason: 'zero-filled tail' } };
      return { ok: false, offset: off, reason: 'record header checksum mismatch' };
    }
    if (len > MAX_RECORD) return { ok: false, offset: off, reason: `record length ${len} exceeds the maximum` };
    const end = off + RECORD_HEADER + len;
    if (end > buf.length) return { ok: true, records, validEnd: off, torn: { offset: off, reason: 'record cut short' } };
    const payload = buf.subarray(off + RECORD_HEADER, end);
    if (zlib.crc32(payload) !== crc) {
      if (end === buf.length || zeroFrom(buf, end)) return { ok: true, records, validEnd: off, torn: { offset: off, reason: 'last record checksum mismatch' } };
      return { ok: false, offset: off, reason: 'record checksum mismatch' };
    }
    records.push({ offset: off, payload });
    off = end;
  }
  return { ok: true, records, validEnd: off };
}
