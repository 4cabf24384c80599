import type { StoredBootEvent } from '@pureboot/core';
import type { StringTable } from './string-table';

/**
 * A stored boot event as bytes, written straight into a timeline chunk (packed-timeline.ts): seq, at,
 * source, kind, then the detail's fields one by one. JSON.stringify and writing its string out as
 * UTF-8 were 8.5k of a boot request's 116k instructions (callgrind, bench:http's long form); this
 * writes the same values for about a quarter of that and reads back what JSON would have: the same
 * keys in the same order, `undefined` and functions left out, NaN and ±Infinity as null, nested
 * objects and arrays through JSON, `toJSON` called with the field's name.
 *
 * Layout: a value is a tag byte and its bytes.
 *   INT     int32, 4 bytes LE        F64   float64, 8 bytes LE
 *   NAME    u16 LE: a string of the log's StringTable (string-table.ts)
 *   ASCII   u8 length, the bytes     JSON  u32 length, the UTF-8 of JSON.stringify(value)
 *   FIELD   like JSON, of `{ [key]: value }` for a value with toJSON (its result may be left out)
 *   NULL / TRUE / FALSE              END   closes the detail's fields
 * A record: seq, at, source, kind, then either the detail's fields (key, value) up to END, or — a
 * detail that is not a plain object, or has `toJSON` — one JSON value for all of it (null where JSON
 * gives nothing). Strings with a number in the table are stored as it: a Map lookup, where copying a
 * string costs V8 a few dozen instructions per character. Others are ASCII bytes, or — not ASCII, or
 * longer than 255 — JSON, which also keeps lone surrogates intact (UTF-8 would replace them).
 *
 * `encodeEvent` writes from `pos` and returns the end. When the record does not fit, the end is past
 * `buf.length`: typed-array writes out of range do nothing, so the caller tries a bigger buffer, and
 * the detail is read again (plain data, as boot events are, reads the same; a getter or toJSON with
 * side effects would run more than once).
 */
const INT = 1;
const F64 = 2;
const ASCII = 3;
const JSON_VALUE = 4;
const NULL = 5;
const TRUE = 6;
const FALSE = 7;
const END = 8;
const WHOLE = 9;
const NAME = 10;
const FIELD = 11;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

function writeNumber(buf: Uint8Array, pos: number, v: number): number {
  if ((v | 0) === v) {
    buf[pos] = INT;
    buf[pos + 1] = v;
    buf[pos + 2] = v >> 8;
    buf[pos + 3] = v >> 16;
    buf[pos + 4] = v >> 24;
    return pos + 5;
  }
  if (!Number.isFinite(v)) {
    buf[pos] = NULL;
    return pos + 1;
  }
  buf[pos] = F64;
  f64[0] = v;
  for (let i = 0; i < 8; i++) buf[pos + 1 + i] = f64Bytes[i];
  return pos + 9;
}

function writeJson(buf: Uint8Array, pos: number, json: string): number {
  const n = Buffer.byteLength(json);
  const end = pos + 5 + n;
  if (end > buf.length) return end;
  buf[pos] = JSON_VALUE;
  buf[pos + 1] = n;
  buf[pos + 2] = n >> 8;
  buf[pos + 3] = n >> 16;
  buf[pos + 4] = n >>> 24;
  (buf as Buffer).write(json, pos + 5, n, 'utf8');
  return end;
}

/** A string, by its number at place `slot` of the record where it has one. */
function writeString(buf: Uint8Array, pos: number, s: string, slot: number, names: StringTable): number {
  const id = names.slotted(s, slot);
  if (id >= 0) {
    buf[pos] = NAME;
    buf[pos + 1] = id;
    buf[pos + 2] = id >> 8;
    return pos + 3;
  }
  const n = s.length;
  if (n < 256) {
    buf[pos] = ASCII;
    buf[pos + 1] = n;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) break;
      buf[pos + 2 + i] = c;
    }
    if (i === n) return pos + 2 + n;
  }
  return writeJson(buf, pos, JSON.stringify(s));
}

/**
 * A detail field's value (key `k`, at place `slot`), or -1 for one JSON leaves out of an object
 * (undefined, a function, a symbol, a toJSON that gives one of those).
 */
function writeValue(buf: Uint8Array, pos: number, k: string, v: unknown, slot: number, names: StringTable): number {
  switch (typeof v) {
    case 'string':
      return writeString(buf, pos, v, slot, names);
    case 'number':
      return writeNumber(buf, pos, v);
    case 'boolean':
      buf[pos] = v ? TRUE : FALSE;
      return pos + 1;
    case 'object':
    case 'bigint': {
      if (v === null) {
        buf[pos] = NULL;
        return pos + 1;
      }
      // JSON.stringify throws for a BigInt, as it did for the whole event.
      if (typeof (v as { toJSON?: unknown }).toJSON !== 'function') return writeJson(buf, pos, JSON.stringify(v));
      const json = JSON.stringify({ [k]: v });
      if (json === '{}') return -1;
      const end = writeJson(buf, pos, json);
      if (end <= buf.length) buf[pos] = FIELD;
      return end;
    }
    default:
      return -1;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

export function encodeEvent(ev: StoredBootEvent, buf: Uint8Array, start: number, names: StringTable): number {
  let pos = writeNumber(buf, start, ev.seq);
  pos = writeNumber(buf, pos, ev.at);
  pos = writeString(buf, pos, ev.source, 0, names);
  pos = writeString(buf, pos, ev.kind, 1, names);
  const d = ev.detail as (Record<string, unknown> & { toJSON?: unknown }) | null | undefined;
  if (d === null || typeof d !== 'object' || Object.getPrototypeOf(d) !== Object.prototype || typeof d.toJSON === 'function') {
    // Not plain data: what JSON made of it, null for nothing (a journal replays such details).
    buf[pos] = WHOLE;
    const json = JSON.stringify(d);
    if (json === undefined) {
      buf[pos + 1] = NULL;
      return pos + 2;
    }
    return writeJson(buf, pos + 1, json);
  }
  // for-in with the own-property check: V8 reads each value through the object's enum cache, where
  // Object.keys and d[k] make every read a megamorphic keyed load. Same keys, same order as JSON.
  let slot = 2;
  for (const k in d) {
    if (!hasOwn.call(d, k)) continue;
    if (pos > buf.length) return pos;
    const keyEnd = writeString(buf, pos, k, slot, names);
    const end = writeValue(buf, keyEnd, k, d[k], slot + 1, names);
    slot += 2;
    if (end >= 0) pos = end;
  }
  buf[pos] = END;
  return pos + 1;
}

/** Reads what encodeEvent wrote (a record it returned an end within the buffer for). */
export class EventReader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    private readonly names: StringTable,
  ) {}

  private value(): unknown {
    const b = this.buf;
    const tag = b[this.pos++];
    switch (tag) {
      case INT: {
        const v = b.readInt32LE(this.pos);
        this.pos += 4;
        return v;
      }
      case F64: {
        const v = b.readDoubleLE(this.pos);
        this.pos += 8;
        return v;
      }
      case NAME: {
        const s = this.names.strings[b[this.pos] | (b[this.pos + 1] << 8)];
        this.pos += 2;
        return s;
      }
      case ASCII: {
        const n = b[this.pos];
        const s = b.toString('latin1', this.pos + 1, this.pos + 1 + n);
        this.pos += 1 + n;
        return s;
      }
      case JSON_VALUE: {
        const n = b.readUInt32LE(this.pos);
        const v: unknown = JSON.parse(b.toString('utf8', this.pos + 4, this.pos + 4 + n));
        this.pos += 4 + n;
        return v;
      }
      case FIELD: {
        const n = b.readUInt32LE(this.pos);
        const v = JSON.parse(b.toString('utf8', this.pos + 4, this.pos + 4 + n)) as Record<string, unknown>;
        this.pos += 4 + n;
        return Object.values(v)[0];
      }
      case NULL:
        return null;
      case TRUE:
        return true;
      case FALSE:
        return false;
      default:
        throw new Error(`storage-memory: stored boot event has an unknown tag ${tag} at byte ${this.pos - 1}`);
    }
  }

  /** The seq of the record at `start` (without reading the rest). */
  seqAt(start: number): number {
    this.pos = start;
    return this.value() as number;
  }

  read(mac: string, start: number): StoredBootEvent {
    this.pos = start;
    const seq = this.value() as number;
    const at = this.value() as number;
    const source = this.value() as string;
    const kind = this.value() as string;
    let detail: Record<string, unknown>;
    if (this.buf[this.pos] === WHOLE) {
      this.pos++;
      detail = this.value() as Record<string, unknown>;
    } else {
      detail = {};
      while (this.buf[this.pos] !== END) {
        const k = this.value() as string;
        const v = this.value();
        // As JSON.parse does: "__proto__" is an own property, not the prototype.
        if (k === '__proto__') Object.defineProperty(detail, k, { value: v, enumerable: true, writable: true, configurable: true });
        else detail[k] = v;
      }
      this.pos++;
    }
    return { seq, mac, at, source, kind, detail };
  }
}
