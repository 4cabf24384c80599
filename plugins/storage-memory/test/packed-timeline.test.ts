import { expect } from 'chai';
import fc from 'fast-check';
import type { StoredBootEvent } from '@pureboot/core';
import { ChunkPool } from '../src/chunk-pool';
import { EventReader, encodeEvent } from '../src/event-codec';
import { StringTable } from '../src/string-table';
import { StoreEngine } from '../src/engine';
import { engineStores } from '../src/stores';
import { PackedTimeline, type Chunk, type RecordWriter } from '../src/packed-timeline';

/** Records that are strings, as UTF-8. */
const text: RecordWriter<string> = (s, buf, pos) => {
  const end = pos + Buffer.byteLength(s);
  if (end <= buf.length) buf.write(s, pos);
  return end;
};
const textAt = (bytes: Buffer, pos: number): string => bytes.toString('utf8', pos, pos + bytes.readUInt32LE(pos - 4));

const seen = (t: PackedTimeline<string>): string[] => {
  const out: string[] = [];
  t.each((bytes, pos) => void out.push(textAt(bytes, pos)));
  return out;
};

describe('storage-memory PackedTimeline (one machine’s events in off-heap chunks)', () => {
  it('reads exactly the newest `retention` events after any pushes and rollbacks (10 000 cases)', () => {
    // The model: a plain list keeping its newest `retention` items. Rollbacks undo the newest pushes
    // first (as the engine does), with the chunks each push reported as dropped.
    // Event texts: any Unicode (multi-byte UTF-8 too), some longer than a chunk.
    const op = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constant<'undo'>('undo'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 8, max: 300 }), fc.integer({ min: 4, max: 300 }), fc.array(op, { maxLength: 300 }), (retention, chunkBytes, smallBytes, ops) => {
        const pool = new ChunkPool(chunkBytes, 3 * chunkBytes, smallBytes);
        const t = new PackedTimeline(retention, pool, text);
        const model: string[][] = [[]];
        const undo: Array<{ packed: string; dropped: Chunk[] }> = [];
        let n = 0;
        for (const o of ops) {
          if (o !== 'undo') {
            const packed = JSON.stringify([++n, { text: o }]);
            undo.push({ packed, dropped: t.push(packed) });
            model.push([...model[model.length - 1], packed].slice(-retention));
          } else if (undo.length > 0) {
            const u = undo.pop()!;
            t.remove((bytes, pos) => textAt(bytes, pos) === u.packed, u.dropped);
            model.pop();
          }
          const want = model[model.length - 1];
          expect(seen(t)).to.deep.equal(want);
          expect(t.size).to.equal(want.length);
          if (undo.length === 0) expect(t.empty).to.equal(true); // every push taken back
        }
        // Chunks go back to the pool when their change is final (here: all at the end) or undone, so
        // none is lost and none is handed out twice: what is in use is what the timeline holds.
        for (const u of undo) for (const c of u.dropped) pool.give(c.bytes);
        const inner = t as unknown as { sealed: Array<{ bytes: Buffer }>; cur?: Buffer };
        const held = [...inner.sealed.map((c) => c.bytes), ...(inner.cur ? [inner.cur] : [])].filter((b) => b.length === chunkBytes || b.length === pool.smallBytes);
        expect(pool.inUse).to.equal(held.length);
        expect(new Set(held).size).to.equal(held.length);
      }),
      { numRuns: 10000 },
    );
  });

  it('holds a full timeline of 200 boot-script events in 5 buffers, and stops a read early', () => {
    const names = new StringTable();
    const t = new PackedTimeline<StoredBootEvent>(200, new ChunkPool(), (ev, bytes, pos) => encodeEvent(ev, bytes, pos, names));
    const detail = { state: 'active', arch: 'x86_64-efi', kind: 'local', bytes: 229, durationMs: 0.02, address: '198.18.0.10' };
    for (let i = 1; i <= 1000; i++) t.push({ seq: i, mac: '02:00:00:00:00:01', at: 1796000000000, source: 'http', kind: 'http.script', detail });
    const inner = t as unknown as { sealed: unknown[]; cur?: Buffer };
    const held = [...inner.sealed, ...(inner.cur ? [inner.cur] : [])];
    expect(held.length).to.be.within(4, 5); // 59 such events (69 bytes each) fit in 4 KiB, plus up to a chunk of extras
    const events: StoredBootEvent[] = [];
    t.each((bytes, pos) => void events.push(new EventReader(bytes, names).read('02:00:00:00:00:01', pos)));
    expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: 200 }, (_, i) => 801 + i));
    expect(events[199]).to.deep.equal({ seq: 1000, mac: '02:00:00:00:00:01', at: 1796000000000, source: 'http', kind: 'http.script', detail });
    const small = new PackedTimeline(200, new ChunkPool(), text);
    for (let i = 1; i <= 1000; i++) small.push(`[${i}]`);
    expect(seen(small)).to.deep.equal(Array.from({ length: 200 }, (_, i) => `[${801 + i}]`));
    const firstThree: string[] = [];
    small.each((bytes, pos) => firstThree.push(textAt(bytes, pos)) < 3);
    expect(firstThree).to.deep.equal(['[801]', '[802]', '[803]']);
  });
});

describe('storage-memory boot events: chunks are reused once final', () => {
  const event = (mac: string, i: number) => ({ mac, at: 1796000000000 + i, source: 'http', kind: 'http.script', detail: { state: 'active', arch: 'x86_64-efi', bytes: 229, n: i } });

  it('a machine with one event holds a small chunk (a flood of random MACs costs 256 bytes each, not 4 KiB)', async () => {
    const engine = new StoreEngine({ historyRetention: 5, bootEventRetention: 200 });
    const { bootEvents } = engineStores(engine);
    for (let i = 0; i < 1000; i++) await bootEvents.append(event(`02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, i));
    const timelines = [...(engine.events as unknown as { byMac: Map<string, { sealed: unknown[]; cur?: Buffer }> }).byMac.values()];
    expect(timelines).to.have.length(1000);
    expect(timelines.every((t) => t.sealed.length === 0 && t.cur?.length === 256)).to.equal(true);
  });

  it('20 000 appends to 10 machines use no more chunks than the timelines hold', async () => {
    const engine = new StoreEngine({ historyRetention: 5, bootEventRetention: 200 });
    const { bootEvents } = engineStores(engine);
    for (let i = 0; i < 20000; i++) await bootEvents.append(event(`02:00:00:00:00:0${i % 10}`, i));
    const pool = engine.events.pool;
    // 200 events of 53 bytes: 3–4 chunks per machine; without reuse it would be ~260 chunks.
    expect(pool.inUse).to.be.within(30, 40);
    expect((await bootEvents.list('02:00:00:00:00:03')).map((e) => e.detail.n)).to.deep.equal(Array.from({ length: 200 }, (_, k) => 18003 + 10 * k));
  });

  it('an event JSON cannot write stores nothing and keeps no chunk: a new machine, and one whose record would spill into a new chunk', async () => {
    const engine = new StoreEngine({ historyRetention: 5, bootEventRetention: 200 });
    const { bootEvents } = engineStores(engine);
    const bad = (mac: string) => ({ mac, at: 1, source: 'http', kind: 'x', detail: { n: 1n } });
    for (let i = 0; i < 3; i++) await bootEvents.append(bad(`02:00:00:00:01:0${i}`)).then(() => expect.fail('a BigInt must be refused'), () => undefined);
    const byMac = (engine.events as unknown as { byMac: Map<string, unknown> }).byMac;
    expect(byMac.size).to.equal(0);
    expect(engine.events.pool.inUse).to.equal(0);
    const mac = '02:00:00:00:00:01';
    // Fill the machine's first (small) chunk, so that the next record starts a full one.
    for (let i = 0; i < 4; i++) await bootEvents.append(event(mac, i));
    const before = await bootEvents.list(mac);
    const inUse = engine.events.pool.inUse;
    await bootEvents.append({ ...bad(mac), detail: { pad: 'x'.repeat(300), n: 1n } }).then(() => expect.fail('a BigInt must be refused'), () => undefined);
    expect(engine.events.pool.inUse).to.equal(inUse);
    expect(await bootEvents.list(mac)).to.deep.equal(before);
    await bootEvents.append(event(mac, 99));
    expect((await bootEvents.list(mac)).map((e) => e.detail.n)).to.deep.equal([0, 1, 2, 3, 99]);
  });

  it('replays a journal’s event whose detail JSON made null (a toJSON giving null)', async () => {
    const engine = new StoreEngine({ historyRetention: 5, bootEventRetention: 200 });
    const { bootEvents } = engineStores(engine);
    await bootEvents.append({ mac: '02:00:00:00:00:01', at: 1, source: 's', kind: 'k', detail: { toJSON: () => null } as unknown as Record<string, unknown> });
    const snapshot = engine.snapshot();
    expect(snapshot.events[0].detail).to.equal(null);
    const again = new StoreEngine({ historyRetention: 5, bootEventRetention: 200 });
    again.restore(snapshot);
    again.apply(StoreEngine.redo([{ k: 'event', ev: { ...snapshot.events[0], seq: 2 }, evicted: [], prevSeq: 1 }]));
    expect((await engineStores(again).bootEvents.list('02:00:00:00:00:01')).map((e) => e.detail)).to.deep.equal([null, null]);
  });

  it('a change rolled back by its backend keeps its chunks out of the pool and its events back in the timeline', async () => {
    const engine = new StoreEngine({ historyRetention: 5, bootEventRetention: 3 });
    let fail = false;
    const { bootEvents } = engineStores(engine, {
      persist: async (changes) => {
        if (!fail) return;
        engine.undo(changes); // as storage-file does before rejecting
        throw new Error('disk full');
      },
    });
    const mac = '02:00:00:00:00:01';
    for (let i = 0; i < 200; i++) await bootEvents.append(event(mac, i));
    const before = await bootEvents.list(mac);
    const inUse = engine.events.pool.inUse;
    fail = true;
    for (let i = 200; i < 400; i++) await bootEvents.append(event(mac, i)).then(() => expect.fail('persist failed, append must reject'), () => undefined);
    expect(await bootEvents.list(mac)).to.deep.equal(before);
    // None of the rolled-back changes gave a chunk back or lost one: the pool lends exactly what the
    // timeline holds (the rebuilds may cut it into chunks differently).
    const t = (engine.events as unknown as { byMac: Map<string, { sealed: Array<{ bytes: Buffer }>; cur?: Buffer }> }).byMac.get(mac)!;
    expect(engine.events.pool.inUse).to.equal(t.sealed.length + (t.cur ? 1 : 0));
    expect(inUse).to.be.greaterThan(0);
  });
});
