import { expect } from 'chai';
import fc from 'fast-check';
import { hyphenMac, normaliseMac } from '../src/mac';

/** The rules, written out the slow way: 12 hex digits, one separator style, lower-case colon form out. */
function reference(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 17) return undefined;
  const s = input.toLowerCase();
  const sep = /^[0-9a-f]{2}([:-])/.exec(s)?.[1];
  if (sep) {
    const parts = s.split(sep);
    return parts.length === 6 && parts.every((p) => /^[0-9a-f]{2}$/.test(p)) ? parts.join(':') : undefined;
  }
  // Bare digits, or Cisco's dotted groups (each of the two dots optional).
  if (!/^[0-9a-f]{4}\.?[0-9a-f]{4}\.?[0-9a-f]{4}$/.test(s)) return undefined;
  return (s.replace(/\./g, '').match(/../g) as string[]).join(':');
}

describe('boot-api normaliseMac', () => {
  it('agrees with the written-out rules on MAC-like and arbitrary input (20 000 cases)', () => {
    const hex = fc.constantFrom(...'0123456789abcdefABCDEF'.split(''));
    const sep = fc.constantFrom(':', '-', '.', '', ' ');
    const macLike = fc.tuple(fc.array(fc.tuple(hex, hex), { minLength: 5, maxLength: 7 }), fc.array(sep, { minLength: 6, maxLength: 6 })).map(([pairs, seps]) => pairs.map(([a, b], i) => `${i ? seps[i - 1] : ''}${a}${b}`).join(''));
    fc.assert(
      fc.property(fc.oneof(macLike, macLike, fc.string({ maxLength: 20 }), fc.constant(undefined), fc.integer()), (input) => {
        expect(normaliseMac(input), JSON.stringify(input)).to.equal(reference(input));
      }),
      { numRuns: 20000 },
    );
  });

  it('examples: the forms iPXE and people write, and what is refused', () => {
    expect(normaliseMac('52-54-00-AB-cd-EF')).to.equal('52:54:00:ab:cd:ef');
    expect(normaliseMac('52-54-00-ab-cd-ef')).to.equal('52:54:00:ab:cd:ef');
    expect(normaliseMac('5254.00ab.cdef')).to.equal('52:54:00:ab:cd:ef');
    expect(normaliseMac('525400abcdef')).to.equal('52:54:00:ab:cd:ef');
    expect(normaliseMac('52:54-00:ab:cd:ef')).to.equal(undefined);
    expect(normaliseMac('52:54:00:ab:cd')).to.equal(undefined);
    expect(hyphenMac('52:54:00:ab:cd:ef')).to.equal('52-54-00-ab-cd-ef');
  });
});
