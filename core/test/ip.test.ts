import { expect } from 'chai';
import fc from 'fast-check';
import net from 'node:net';
import { intToIp, ipToInt, isIPv4 } from '@pureboot/core';

/** The rule ipToInt implements by hand: four dot-separated parts of 1–3 ASCII digits, each ≤ 255. */
function reference(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^[0-9]{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

describe('core ipToInt / intToIp', () => {
  it('accepts dotted quads and rejects everything else, with a TypeError naming the input', () => {
    expect(ipToInt('0.0.0.0')).to.equal(0);
    expect(ipToInt('255.255.255.255')).to.equal(0xffffffff);
    expect(ipToInt('198.18.0.1')).to.equal(0xc6120001);
    expect(ipToInt('010.001.1.1')).to.equal(0x0a010101);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '.1.2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.1000', '1.2.3.256', '-1.2.3.4', '1.2.3.４', '1.2.3.0x1']) {
      expect(() => ipToInt(bad), JSON.stringify(bad)).to.throw(TypeError, 'not an IPv4 address');
    }
  });

  it('agrees with the split/regex rule on random and mutated strings, and round-trips intToIp', () => {
    const near = fc.array(fc.constantFrom('0', '1', '2', '5', '9', '.', '.', 'x', ' ', '-'), { maxLength: 18 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(near, fc.string({ maxLength: 20 })), (s) => {
        const want = reference(s);
        if (want === undefined) expect(() => ipToInt(s)).to.throw(TypeError);
        else expect(ipToInt(s)).to.equal(want);
      }),
      { numRuns: 20000 },
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => ipToInt(intToIp(n)) === n), { numRuns: 20000 });
  });
});

describe('core isIPv4', () => {
  it('agrees with net.isIPv4 on addresses, near-addresses and random strings', () => {
    for (const s of ['0.0.0.0', '255.255.255.255', '198.18.0.1', '010.1.1.1', '1.2.3.04', '1.2.3', '1.2.3.4.', '256.0.0.1', '::1', '::ffff:1.2.3.4', '']) {
      expect(isIPv4(s), JSON.stringify(s)).to.equal(net.isIPv4(s));
    }
    const near = fc.array(fc.constantFrom('0', '1', '2', '5', '9', '.', '.', 'x', ':', '-'), { maxLength: 18 }).map((a) => a.join(''));
    const quads = fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.boolean()).map(([a, b, c, d, z]) => `${z ? '0' : ''}${a}.${b}.${c}.${d}`);
    fc.assert(
      fc.property(fc.oneof(near, quads, fc.string({ maxLength: 20 })), (s) => {
        expect(isIPv4(s), JSON.stringify(s)).to.equal(net.isIPv4(s));
      }),
      { numRuns: 20000 },
    );
  });
});
