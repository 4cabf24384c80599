import type { StoredBootEvent } from '@pureboot/core';

/**
 * A stored boot event as bytes, written straight into a timeline chunk (packed-timeline.ts): seq, at,
 * source, kind, then the detail's fields one by one. JSON.stringify and writing its string out as
 * UTF-8 were 8.5k of a boot request's 116k instructions (callgrind, bench:http's long form); this
 * writes the same values for about a quarter of that and reads back what JSON would have: the same
 * keys in the same order, `undefined` and functions left out, NaN and ±Infinity as null, nested
 * objects and arrays (and anything with `toJSON`) through JSON.
 *
 * Layout: a value is a tag byte and its bytes.
 *   INT     int32, 4 bytes LE        F64   float64, 8 bytes LE
 *   NAME    u16 LE: a string of the codec's StringTable
 *   ASCII   u8 length, the bytes     JSON  u32 length, the UTF-8 of JSON.stringify(value)
 *   NULL / TRUE / FALSE              END   closes the detail's fields
 * A record: seq, at, source, kind, then either the detail's fields (key, value) up to END, or — a
 * detail that is not a plain object, or has `toJSON` — one JSON value for all of it. Keys and most
 * values repeat from event to event (field names, states, architectures, kinds, a machine's
 * address), so short strings are numbered in a table the first time they are stored (up to 65 536 of
 * them) and stored as their number: a Map lookup, where copying a string costs V8 a few dozen
 * instructions per character. Others are ASCII bytes, or — not ASCII, or longer than 255 — JSON,
 * which also keeps lone surrogates intact (UTF-8 would replace them).
 *
 * `encodeEvent` writes from `pos` and returns the end. When the record does not fit, the end is past
 * `buf.length`: typed-array writes out of range do nothing, so the caller just tries a bigger buffer.
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

/** Short strings by number (NAME), for one EventLog's records. */
export class StringTable {
  private readonly ids = new Map<string, number>();
  readonly strings: string[] = [];

  constructor(
    private readonly capacity = 65536,
    private readonly maxLength = 64,
  ) {}

  /** The string's number, given on first sight; -1 when the table is full or the string too long. */
  id(s: string): number {
    const id = this.ids.get(s);
    if (id !== undefined) return id;
    if (this.strings.length >= this.capacity || s.length > this.maxLength) return -1;
    // A copy of its own: the string may be a slice of a request's URL, which it would keep alive.
    const own = JSON.parse(JSON.stringify(s)) as string;
    this.ids.set(own, this.strings.length);
    this.strings.push(own);
    return this.strings.length - 1;
  }
}

function writeString(buf: Uint8Array, pos: number, s: string, names: StringTable): number {
  const id = names.id(s);
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

/** A detail field's value, or -1 for one JSON leaves out of an object (undefined, a function, a symbol). */
function writeValue(buf: Uint8Array, pos: number, v: unknown, names: StringTable): number {
  switch (typeof v) {
    case 'string':
      return writeString(buf, pos, v, names);
    case 'number':
      return writeNumber(buf, pos, v);
    case 'boolean':
      buf[pos] = v ? TRUE : FALSE;
      return pos + 1;
    case 'object':
      if (v === null) {
        buf[pos] = NULL;
        return pos + 1;
      }
      return writeJson(buf, pos, JSON.stringify(v));
    case 'bigint':
      return writeJson(buf, pos, JSON.stringify(v)); // throws, as JSON.stringify of the event would
    default:
      return -1;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Strings by the place they have in a record: the events of one kind have the same keys in the
 * same order, mostly the same values there (a state, an architecture, a kind), and the for-in hands
 * out the same key strings each time. A string equal to the one last written at its place reuses
 * that one's number without the table's Map lookup (and without hashing a string new to V8).
 * Places: source, kind, then a key and a value for each of the detail's first 15 fields.
 */
const SLOTS = 32;
const slotString: Array<string | undefined> = new Array<string | undefined>(SLOTS).fill(undefined);
const slotId = new Int32Array(SLOTS);
let slotTable: StringTable | undefined;

function writeSlotString(buf: Uint8Array, pos: number, s: string, slot: number, names: StringTable): number {
  if (slot >= SLOTS) return writeString(buf, pos, s, names);
  if (slotTable !== names) {
    slotString.fill(undefined);
    slotTable = names;
  }
  let id: number;
  if (slotString[slot] === s) id = slotId[slot];
  else {
    id = names.id(s);
    if (id < 0) return writeString(buf, pos, s, names);
    slotString[slot] = s;
    slotId[slot] = id;
  }
  buf[pos] = NAME;
  buf[pos + 1] = id;
  buf[pos + 2] = id >> 8;
  return pos + 3;
}

export function encodeEvent(ev: StoredBootEvent, buf: Uint8Array, start: number, names: StringTable): number {
  let pos = writeNumber(buf, start, ev.seq);
  pos = writeNumber(buf, pos, ev.at);
  pos = writeSlotString(buf, pos, ev.source, 0, names);
  pos = writeSlotString(buf, pos, ev.kind, 1, names);
  const d = ev.detail as Record<string, unknown> & { toJSON?: unknown };
  if (Object.getPrototypeOf(d) !== Object.prototype || typeof d.toJSON === 'function') {
    buf[pos] = WHOLE;
    return writeJson(buf, pos + 1, JSON.stringify(d));
  }
  // for-in with the own-property check: V8 reads each value through the object's enum cache, where
  // Object.keys and d[k] make every read a megamorphic keyed load. Same keys, same order as JSON.
  let slot = 2;
  for (const k in d) {
    if (!hasOwn.call(d, k)) continue;
    if (pos > buf.length) return pos;
    const keyEnd = writeSlotString(buf, pos, k, slot, names);
    const v = d[k];
    const end = typeof v === 'string' ? writeSlotString(buf, keyEnd, v, slot + 1, names) : writeValue(buf, keyEnd, v, names);
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
