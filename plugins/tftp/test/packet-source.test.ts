import { expect } from 'chai';
import fc from 'fast-check';
import { parsePacket } from '../src/codec/packet';
import type { ChunkProducer } from '../src/server/block-source';
import { ChunkPackets, packetize, PrebuiltPackets } from '../src/server/packet-source';

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));

/** The data chunked at the given sizes (cycled), with an await between chunks. */
function chunked(data: Buffer, sizes: number[]): ChunkProducer {
  let pos = 0;
  let i = 0;
  return {
    async nextChunk() {
      if (pos >= data.length) return null;
      const len = sizes[i++ % sizes.length];
      const c = data.subarray(pos, pos + len);
      pos += len;
      return Buffer.from(c); // a copy, as a reader's chunk would be
    },
  };
}

function decode(p: Buffer): { block: number; data: Buffer } {
  const r = parsePacket(p);
  if (!r.ok || r.packet.op !== 'DATA') throw new Error('not a DATA packet');
  return { block: r.packet.block, data: r.packet.data };
}

describe('tftp: packet sources', () => {
  it('packetize: every block with its 16-bit number, a short (empty) last block, in one allocation', () => {
    const data = bytes(1024);
    const packets = packetize(data, 512);
    expect(packets.map((p) => p.toString('hex', 0, 4))).to.deep.equal(['00030001', '00030002', '00030003']);
    expect(packets.map((p) => p.length)).to.deep.equal([516, 516, 4]);
    expect(Buffer.concat(packets.map((p) => p.subarray(4))).equals(data)).to.equal(true);
    expect(new Set(packets.map((p) => p.buffer)).size).to.equal(1);
    // Rollover: block 65536 is numbered 0.
    const big = packetize(Buffer.alloc(8 * 65540), 8);
    expect(decode(big[65535]).block).to.equal(0);
    expect(decode(big[65536]).block).to.equal(1);
    const src = new PrebuiltPackets(packets, 512);
    expect(src.packet(2)).to.equal(packets[1]);
    expect(() => src.packet(4)).to.throw(/block 4/);
  });

  it('ChunkPackets: any chunking and arena size give the file back, block by block, with retransmissions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 8, max: 700 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        async (size, blksize, sizes, perArena, window) => {
          const data = bytes(size);
          const src = new ChunkPackets(chunked(data, sizes), blksize, perArena * (blksize + 4), () => true);
          const got: Buffer[] = [];
          const expected = Math.floor(size / blksize) + 1;
          for (let n = 1; n <= expected; n++) {
            const p = await src.packet(n);
            const d = decode(p);
            expect(d.block).to.equal(n & 0xffff);
            got.push(Buffer.from(d.data));
            // A retransmission of any block still in the window gives the same bytes.
            for (let k = Math.max(1, n - window + 1); k <= n; k++) expect(decode(src.packet(k) as Buffer).data.equals(got[k - 1])).to.equal(true);
            src.release(n - window + 1);
          }
          expect(got[expected - 1].length).to.be.lessThan(blksize);
          expect(Buffer.concat(got).equals(data)).to.equal(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ChunkPackets reuses an acknowledged arena only when no send is queued', async () => {
    const data = bytes(512 * 12 + 5);
    let queued = 1;
    const src = new ChunkPackets(chunked(data, [4096]), 512, 2 * 516, () => queued === 0);
    const p1 = await src.packet(1);
    await src.packet(2);
    src.release(2); // arena 0 acknowledged, but a send is queued: not reused
    const p3 = await src.packet(3);
    expect(p3.buffer === p1.buffer && p3.byteOffset === p1.byteOffset).to.equal(false);
    expect(decode(p1).block, 'the old packet is untouched').to.equal(1);
    queued = 0;
    await src.packet(4);
    src.release(4); // arena 1 is free now and reused for blocks 5–6
    const p5 = await src.packet(5);
    expect(p5.buffer === p3.buffer && p5.byteOffset === p3.byteOffset).to.equal(true);
    expect(() => src.packet(3)).to.throw(/after its release/);
    expect(() => src.packet(7)).to.throw(/requested after 5/);
  });
});
