/**
 * Short strings by number, for one EventLog's records (event-codec.ts). Keys and most values of boot
 * events repeat from event to event (field names, states, architectures, kinds, a machine's address),
 * so a string seen twice gets a number (u16: up to 65 536 of them) and is stored as that number.
 *
 * A string gets its number on its second sight: one-off strings (a TFTP client's `ip:port`, a path
 * asked for once) would otherwise fill the table for good. First sights wait in `candidates`, which
 * is emptied when it reaches CANDIDATES entries. The table and the candidates hold copies of their
 * own: a string may be a slice of a request's URL, which it would keep alive.
 *
 * `slot` remembers, for each place in a record (source, kind, then key and value of each field), the
 * last string written there and its number: the events of one kind have the same keys in the same
 * order and mostly the same values, so an equal string reuses its number without a Map lookup (and
 * without hashing a string new to V8).
 */
const CANDIDATES = 4096;
const SLOTS = 32;

export class StringTable {
  private readonly ids = new Map<string, number>();
  private readonly candidates = new Set<string>();
  readonly strings: string[] = [];
  private readonly slotString: Array<string | undefined> = new Array<string | undefined>(SLOTS).fill(undefined);
  private readonly slotId = new Int32Array(SLOTS);

  constructor(
    private readonly capacity = 65536,
    private readonly maxLength = 64,
  ) {}

  /** The string's number; -1 when it has none (yet): first sight, table full, or too long. */
  id(s: string): number {
    const id = this.ids.get(s);
    if (id !== undefined) return id;
    if (this.strings.length >= this.capacity || s.length > this.maxLength) return -1;
    if (!this.candidates.has(s)) {
      if (this.candidates.size >= CANDIDATES) this.candidates.clear();
      this.candidates.add(own(s));
      return -1;
    }
    this.candidates.delete(s);
    const copy = own(s);
    this.ids.set(copy, this.strings.length);
    this.strings.push(copy);
    return this.strings.length - 1;
  }

  /** `id(s)` for the string at place `slot` of a record, through that place's last string. */
  slotted(s: string, slot: number): number {
    if (slot >= SLOTS) return this.id(s);
    if (this.slotString[slot] === s) return this.slotId[slot];
    const id = this.id(s);
    if (id >= 0) {
      this.slotString[slot] = this.strings[id];
      this.slotId[slot] = id;
    }
    return id;
  }
}

/** The same characters as a string of their own (JSON's round trip: never a slice of another). */
function own(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
