import { expect } from 'chai';
import fc from 'fast-check';
import { DhcpCodecError, decodeOptions, parseDhcpPacket, pxeClientInfo, relayAgentInfoOf, serializeDhcpPacket, clientIdOf } from '../../src/codec';
import { arbMutated, arbPacket } from './arbitraries';
import { goldenPackets } from './golden';

function onlyCodecErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof DhcpCodecError)) throw err;
  }
}

describe('dhcp codec: properties (fast-check)', function () {
  this.timeout(60000);

  it('parse(serialize(p)) equals p for any well-formed packet', () => {
    fc.assert(
      fc.property(arbPacket, (p) => {
        expect(parseDhcpPacket(serializeDhcpPacket(p))).to.deep.equal(p);
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it('round-trips through option overload when a size limit forces it', () => {
    fc.assert(
      fc.property(arbPacket, (p) => {
        p.sname = '';
        p.file = '';
        let wire: Buffer;
        try {
          wire = serializeDhcpPacket(p, { maxSize: 576 });
        } catch (err) {
          expect((err as DhcpCodecError).code).to.equal('PB_ERR_DHCP_TOO_LARGE');
          return;
        }
        expect(wire.length).to.be.at.most(576);
        expect(parseDhcpPacket(wire)).to.deep.equal(p);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('100 000 random and mutated datagrams raise nothing but DhcpCodecError', () => {
    const seeds = goldenPackets().map((g) => g.bytes);
    const arb = fc.oneof(arbMutated(seeds), fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)));
    let parsed = 0;
    fc.assert(
      fc.property(arb, (buf) => {
        onlyCodecErrors(() => {
          const p = parseDhcpPacket(buf);
          parsed++;
          decodeOptions(p);
          pxeClientInfo(p);
          clientIdOf(p);
          onlyCodecErrors(() => relayAgentInfoOf(p));
          onlyCodecErrors(() => serializeDhcpPacket(p));
        });
      }),
      { numRuns: 100000, seed: 1234 },
    );
    expect(parsed).to.be.greaterThan(1000);
  });
});
