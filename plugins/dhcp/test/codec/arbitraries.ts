import fc from 'fast-check';
import type { DhcpPacket } from '../../src/codec';

const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const latin1 = (max: number) => fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: max });

/** Any well-formed packet: header fields in range, options 1..254 except 52, payloads up to 600 bytes. */
export const arbPacket: fc.Arbitrary<DhcpPacket> = fc
  .record({
    op: fc.constantFrom(1, 2),
    htype: fc.nat(255),
    hw: fc.uint8Array({ minLength: 0, maxLength: 16 }),
    hops: fc.nat(255),
    xid: fc.nat(0xffffffff),
    secs: fc.nat(0xffff),
    flags: fc.nat(0xffff),
    ciaddr: ip,
    yiaddr: ip,
    siaddr: ip,
    giaddr: ip,
    sname: latin1(64),
    file: latin1(128),
    options: fc.uniqueArray(
      fc.tuple(
        fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52),
        fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 600 })),
      ),
      { selector: (t) => t[0], maxLength: 12 },
    ),
  })
  .map((r) => ({
    op: r.op,
    htype: r.htype,
    hlen: r.hw.length,
    hops: r.hops,
    xid: r.xid,
    secs: r.secs,
    flags: r.flags,
    ciaddr: r.ciaddr,
    yiaddr: r.yiaddr,
    siaddr: r.siaddr,
    giaddr: r.giaddr,
    chaddr: Buffer.from(r.hw).toString('hex').replace(/(..)(?!$)/g, '$1:'),
    sname: r.sname,
    file: r.file,
    options: new Map(r.options.map(([c, d]) => [c, Buffer.from(d)])),
  }));

/** Mutate a datagram: flip bytes, truncate, extend, splice option-like garbage. */
export function arbMutated(seeds: Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .record({
      seed: fc.constantFrom(...seeds),
      edits: fc.array(fc.tuple(fc.nat(1000), fc.nat(255)), { maxLength: 8 }),
      cut: fc.option(fc.nat(700)),
      tail: fc.uint8Array({ maxLength: 64 }),
    })
    .map(({ seed, edits, cut, tail }) => {
      let b = Buffer.concat([seed, Buffer.from(tail)]);
      for (const [pos, val] of edits) if (b.length > 0) b[pos % b.length] = val;
      if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
      return b;
    });
}
