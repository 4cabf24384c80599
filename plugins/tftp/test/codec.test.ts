import { expect } from 'chai';
import fc from 'fast-check';
import fixtures from './fixtures/packets.json';
import {
  ackBlock,
  NetasciiDecoder,
  negotiateRead,
  parsePacket,
  serializeAck,
  serializeData,
  serializeError,
  serializeOack,
  serializeRequest,
  serializePacket,
  toNetascii,
  type NegotiationLimits,
  type TftpPacket,
} from '../src/codec';

function comparable(p: TftpPacket): Record<string, unknown> {
  if (p.op === 'DATA') return { op: p.op, block: p.block, dataHex: p.data.toString('hex') };
  return { ...p };
}

describe('tftp codec: golden packets', () => {
  for (const f of fixtures.valid) {
    it(`parses ${f.name}`, () => {
      const r = parsePacket(Buffer.from(f.hex, 'hex'));
      expect(r.ok, JSON.stringify(r)).to.equal(true);
      if (r.ok) expect(comparable(r.packet)).to.deep.equal(f.decoded);
    });
    // Case-folded inputs parse to lower case, so they do not re-serialize to the same bytes.
    if (!/uppercase|case-folded/.test(f.name)) {
      it(`serializes ${f.name} byte for byte`, () => {
        const r = parsePacket(Buffer.from(f.hex, 'hex'));
        if (!r.ok) throw new Error(r.reason);
        expect(serializePacket(r.packet).toString('hex')).to.equal(f.hex);
      });
    }
  }
  for (const f of fixtures.malformed) {
    it(`refuses malformed ${f.name}`, () => {
      const r = parsePacket(Buffer.from(f.hex, 'hex'));
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.reason).to.contain(f.reason);
    });
  }

  it('decodes a UTF-8 filename as UTF-8 and invalid UTF-8 byte for byte (latin1)', () => {
    const utf = parsePacket(Buffer.concat([Buffer.from([0, 1]), Buffer.from('café/ü.bin\u0000octet\u0000', 'utf8')]));
    expect(utf.ok && utf.packet.op === 'RRQ' && utf.packet.filename).to.equal('café/ü.bin');
    const bad = parsePacket(Buffer.from('0001ff41006f6374657400', 'hex'));
    expect(bad.ok && bad.packet.op === 'RRQ' && bad.packet.filename).to.equal('\u00ffA');
    expect(serializeRequest('RRQ', 'café', 'octet').toString('hex')).to.equal('0001' + Buffer.from('café\u0000octet\u0000', 'utf8').toString('hex'));
  });
  it('serializes DATA/ACK with the block number wrapped to 16 bits', () => {
    expect(serializeData(65536, Buffer.from('x')).toString('hex')).to.equal('0003000078');
    expect(serializeData(65537, Buffer.alloc(0)).toString('hex')).to.equal('00030001');
    expect(serializeAck(65535).toString('hex')).to.equal('0004ffff');
  });
  it('serializes ERROR with a NUL-terminated ASCII message (non-ASCII replaced)', () => {
    expect(serializeError(2, 'Access violation').toString('hex')).to.equal('00050002' + Buffer.from('Access violation').toString('hex') + '00');
    expect(serializeError(0, 'a\u0000b\u00e9').toString('hex')).to.equal('00050000' + Buffer.from('a?b?').toString('hex') + '00');
  });
  it('serializes OACK in the given order', () => {
    expect(serializeOack([{ name: 'windowsize', value: '16' }, { name: 'blksize', value: '1468' }]).toString('hex')).to.equal(
      '0006' + Buffer.from('windowsize\u000016\u0000blksize\u00001468\u0000', 'latin1').toString('hex'),
    );
  });
});

describe('tftp codec: option negotiation (RFC 2347/2348/2349/7440)', () => {
  const limits: NegotiationLimits = { blksizeMax: 1468, windowsizeMax: 64, tsize: true, timeout: true };
  const opts = (...kv: string[]) => kv.reduce<Array<{ name: string; value: string }>>((a, v, i) => (i % 2 ? a : [...a, { name: v, value: kv[i + 1] }]), []);

  it('no options → no OACK, 512-byte lock-step', () => {
    const n = negotiateRead([], limits, 100);
    expect(n).to.include({ blksize: 512, windowsize: 1 });
    expect(n.oack).to.deep.equal([]);
  });
  it('clamps blksize to the configured maximum and to 65464', () => {
    expect(negotiateRead(opts('blksize', '9000'), limits, 1).oack).to.deep.equal([{ name: 'blksize', value: '1468' }]);
    expect(negotiateRead(opts('blksize', '70000'), { ...limits, blksizeMax: 100000 }, 1).blksize).to.equal(65464);
    expect(negotiateRead(opts('blksize', '8'), limits, 1).blksize).to.equal(8);
  });
  it('ignores blksize < 8 and non-decimal values (not echoed)', () => {
    for (const v of ['7', '0', '-1', 'abc', '', '1e3', ' 512', '99999999999']) {
      const n = negotiateRead(opts('blksize', v), limits, 1);
      expect(n.oack, v).to.deep.equal([]);
      expect(n.blksize).to.equal(512);
    }
  });
  it('reports tsize only when asked, with the real size', () => {
    expect(negotiateRead(opts('tsize', '0'), limits, 12345).oack).to.deep.equal([{ name: 'tsize', value: '12345' }]);
    expect(negotiateRead(opts('tsize', '0'), limits, undefined).oack).to.deep.equal([]);
    expect(negotiateRead(opts('tsize', '0'), { ...limits, tsize: false }, 5).oack).to.deep.equal([]);
  });
  it('echoes timeout 1–255 unchanged, ignores anything else', () => {
    expect(negotiateRead(opts('timeout', '3'), limits, 1)).to.include({ timeoutSec: 3 });
    expect(negotiateRead(opts('timeout', '0'), limits, 1).oack).to.deep.equal([]);
    expect(negotiateRead(opts('timeout', '256'), limits, 1).oack).to.deep.equal([]);
  });
  it('clamps windowsize, ignores 0', () => {
    expect(negotiateRead(opts('windowsize', '512'), limits, 1).oack).to.deep.equal([{ name: 'windowsize', value: '64' }]);
    expect(negotiateRead(opts('windowsize', '0'), limits, 1).oack).to.deep.equal([]);
    expect(negotiateRead(opts('windowsize', '4'), { ...limits, windowsizeMax: 0 }, 1).oack).to.deep.equal([]);
  });
  it('never sends an option the client did not ask for, keeps the client order', () => {
    const n = negotiateRead(opts('multicast', '', 'windowsize', '8', 'x-vendor', '1', 'tsize', '0', 'blksize', '1024'), limits, 77);
    expect(n.oack.map((o) => o.name)).to.deep.equal(['windowsize', 'tsize', 'blksize']);
    expect(n.ignored.map((o) => o.name)).to.deep.equal(['multicast', 'x-vendor']);
  });
});

describe('tftp codec: netascii', () => {
  it('LF → CR LF and CR → CR NUL', () => {
    expect(toNetascii(Buffer.from('a\nb\rc\r\n')).toString('latin1')).to.equal('a\r\nb\r\u0000c\r\u0000\r\n');
  });
  it('decodes what it encodes, across any chunking', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 17 }), (bytes, chunk) => {
        const enc = toNetascii(Buffer.from(bytes));
        const dec = new NetasciiDecoder();
        const parts: Buffer[] = [];
        for (let i = 0; i < enc.length; i += chunk) parts.push(dec.push(enc.subarray(i, i + chunk)));
        parts.push(dec.end());
        expect(Buffer.concat(parts).equals(Buffer.from(bytes))).to.equal(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('tftp codec: ackBlock (the per-ACK fast path)', () => {
  it('reads the block of an ACK, padded or not, and -1 for every other datagram', () => {
    expect(ackBlock(Buffer.from('00040102', 'hex'))).to.equal(0x0102);
    expect(ackBlock(Buffer.from('0004ffff0000', 'hex'))).to.equal(0xffff);
    expect(ackBlock(Buffer.from('000401', 'hex'))).to.equal(-1);
    expect(ackBlock(Buffer.from('00030001', 'hex'))).to.equal(-1);
    expect(ackBlock(Buffer.from('01040001', 'hex'))).to.equal(-1);
    expect(ackBlock(Buffer.alloc(0))).to.equal(-1);
  });
});

describe('tftp codec: properties', () => {
  it('never throws on random datagrams (120 000 runs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const r = parsePacket(buf);
        expect(typeof r.ok).to.equal('boolean');
        // The per-ACK fast path gives the same verdict as the parser.
        expect(ackBlock(buf)).to.equal(r.ok && r.packet.op === 'ACK' ? r.packet.block : -1);
      }),
      { numRuns: 120000 },
    );
  });
  it('never throws on mutated valid requests, and what parses re-serializes to a packet that parses the same (80 000 runs)', () => {
    const seeds = fixtures.valid.map((f) => Buffer.from(f.hex, 'hex'));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (i, flips, cut) => {
          const b = Buffer.from(seeds[i]);
          for (const [pos, val] of flips) b[pos % b.length] = val;
          const m = b.subarray(0, b.length - (cut % 3));
          const r = parsePacket(m);
          expect(ackBlock(m)).to.equal(r.ok && r.packet.op === 'ACK' ? r.packet.block : -1);
          if (r.ok && r.packet.op !== 'ERROR') {
            const again = parsePacket(serializePacket(r.packet));
            expect(again.ok).to.equal(true);
            if (again.ok) expect(comparable(again.packet)).to.deep.equal(comparable(r.packet));
          }
        },
      ),
      { numRuns: 80000 },
    );
  });
});
