import { expect } from 'chai';
import fc from 'fast-check';
import type { StoredBootEvent } from '@pureboot/core';
import { EventReader, encodeEvent } from '../src/event-codec';
import { StringTable } from '../src/string-table';

/** Encode into `size` bytes (growing until it fits, as PackedTimeline does) and read it back. */
function roundTrip(ev: StoredBootEvent, names: StringTable, size: number): { back: StoredBootEvent; bytes: number } {
  let buf = Buffer.alloc(size);
  let end: number;
  while ((end = encodeEvent(ev, buf, 3, names)) > buf.length) buf = Buffer.alloc(Math.max(end, 2 * buf.length));
  return { back: new EventReader(buf, names).read(ev.mac, 3), bytes: end - 3 };
}

/** What the stored form was before this codec: the JSON of [seq, at, source, kind, detail]. */
function asJson(ev: StoredBootEvent): StoredBootEvent {
  const [seq, at, source, kind, detail] = JSON.parse(JSON.stringify([ev.seq, ev.at, ev.source, ev.kind, ev.detail])) as [number, number, string, string, Record<string, unknown>];
  return { seq, mac: ev.mac, at, source, kind, detail };
}

const key = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('__proto__', '0', '10', 'constructor', 'toJSON', 'state', 'a'.repeat(300)));
const leaf = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ minLength: 250, maxLength: 400 }),
  fc.constantFrom('\ud800', 'x\udfffy', 'ümlaut', '', 'active', 'x86_64-efi'),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 53 + 2, 0.1),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: true }),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
  // toJSON gets the field's name, and may give what JSON leaves out.
  fc.constant({ toJSON: (key: string) => `field ${key}` }),
  fc.constant({ toJSON: () => undefined }),
  fc.constant({ toJSON: () => () => 1 }),
);
const value = fc.oneof(leaf, fc.jsonValue(), fc.array(leaf, { maxLength: 4 }), fc.dictionary(key, leaf, { maxKeys: 4 }));
const event = fc.record({
  seq: fc.integer({ min: 1, max: 2 ** 40 }),
  mac: fc.constant('02:00:00:00:00:01'),
  at: fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), fc.double({ noNaN: true, noDefaultInfinity: true })),
  source: fc.oneof(fc.constantFrom('http', 'tftp', 'dhcp'), fc.string({ unit: 'binary' })),
  kind: fc.oneof(fc.constantFrom('http.script', 'tftp.done'), fc.string()),
  detail: fc.oneof(
    { weight: 10, arbitrary: fc.dictionary(key, value, { maxKeys: 8 }) },
    // Not plain data: as JSON made it (a journal holds `"detail":null` for a toJSON that gave null).
    fc.constantFrom(null, { toJSON: () => null }, { toJSON: () => undefined }, { toJSON: () => 'text' }, new Date(7)) as fc.Arbitrary<Record<string, unknown>>,
  ),
});

describe('storage-memory event codec (a boot event as bytes in its timeline)', () => {
  it('reads back what JSON would have, for any event, in any buffer size and table state (20 000 cases)', () => {
    fc.assert(
      fc.property(event, fc.integer({ min: 4, max: 600 }), fc.integer({ min: 0, max: 8 }), (ev, size, capacity) => {
        // A table with room for a few strings: names, the table full, and strings too long for it.
        const names = new StringTable(capacity, 16);
        const want = asJson(ev);
        expect(roundTrip(ev, names, size).back).to.deep.equal(want);
        expect(roundTrip(ev, names, size).back).to.deep.equal(want); // now with its strings numbered
      }),
      { numRuns: 20000 },
    );
  });

  it('keeps "__proto__" as an own field, as JSON.parse does, and never as the prototype', () => {
    const detail = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const { back } = roundTrip({ seq: 1, mac: 'm', at: 1, source: 's', kind: 'k', detail }, new StringTable(), 64);
    expect(Object.getPrototypeOf(back.detail)).to.equal(Object.prototype);
    expect(Object.keys(back.detail)).to.deep.equal(['__proto__', 'a']);
    expect((back.detail as { polluted?: boolean }).polluted).to.equal(undefined);
  });

  it('stores a detail that is not a plain object (toJSON, a class, no prototype) as JSON.stringify does', () => {
    class Detail {
      x = 1;
      get y(): number {
        return 2;
      }
    }
    const names = new StringTable();
    for (const detail of [new Date(5), new Detail(), Object.assign(Object.create(null) as object, { a: 'b' }), { toJSON: () => ({ shown: true }), hidden: 1 }]) {
      const ev = { seq: 1, mac: 'm', at: 1, source: 's', kind: 'k', detail: detail as Record<string, unknown> };
      expect(roundTrip(ev, names, 16).back).to.deep.equal(asJson(ev));
    }
  });

  it('refuses a BigInt in the detail as JSON.stringify does (the append fails, nothing half-written counts)', () => {
    const ev = { seq: 1, mac: 'm', at: 1, source: 's', kind: 'k', detail: { n: 1n } };
    expect(() => encodeEvent(ev, Buffer.alloc(256), 0, new StringTable())).to.throw(TypeError, /BigInt/);
  });

  it('numbers a short string on its second sight only, and never a one-off one (the table stays for repeats)', () => {
    const names = new StringTable();
    const ev = (i: number) => ({ seq: i, mac: 'm', at: 1, source: 'tftp', kind: 'tftp.done', detail: { client: `198.18.0.5:${40000 + i}`, path: 'undionly.kpxe' } });
    const sizes = [1, 2, 3].map((i) => roundTrip(ev(i), names, 256).bytes);
    expect(sizes[1]).to.be.lessThan(sizes[0]); // names and the path have numbers from the second event on
    expect(sizes[2]).to.equal(sizes[1]);
    for (let i = 4; i < 10000; i++) roundTrip(ev(i), names, 256);
    expect(names.strings).to.include.members(['tftp', 'tftp.done', 'client', 'path', 'undionly.kpxe']);
    expect(names.strings.filter((x) => x.startsWith('198.18.'))).to.deep.equal([]);
  });

  it('writes a boot request’s http.script event in 65 bytes (the JSON form took 147)', () => {
    const detail = { state: 'active', arch: 'x86_64-efi', kind: 'local', profile: undefined, bytes: 229, durationMs: 0.02, address: '198.18.0.10' };
    const ev = { seq: 123456, mac: '02:00:00:00:00:01', at: 1796000000000, source: 'http', kind: 'http.script', detail };
    const names = new StringTable();
    roundTrip(ev, names, 256);
    const { back, bytes } = roundTrip(ev, names, 256);
    expect(back).to.deep.equal(asJson(ev));
    expect(bytes).to.equal(65);
  });
});
