import { expect } from 'chai';
import { allowedSegments } from '../src/segments';

describe('storage-postgres: allowed segments (ranges minus exclusions)', () => {
  const r = (start: number, end: number) => ({ start, end });
  it('keeps ranges in preference order and splits them around exclusions', () => {
    expect(allowedSegments([r(100, 110), r(10, 20)], [r(12, 13), r(105, 105), r(20, 30)])).to.deep.equal([r(100, 104), r(106, 110), r(10, 11), r(14, 19)]);
  });
  it('handles exclusions covering a whole range, its ends, overlapping or reversed', () => {
    expect(allowedSegments([r(1, 5)], [r(0, 9)])).to.deep.equal([]);
    expect(allowedSegments([r(1, 5)], [r(1, 1), r(5, 5)])).to.deep.equal([r(2, 4)]);
    expect(allowedSegments([r(1, 10)], [r(3, 6), r(4, 8)])).to.deep.equal([r(1, 2), r(9, 10)]);
    expect(allowedSegments([r(10, 1)], [r(6, 4)])).to.deep.equal([r(1, 3), r(7, 10)]);
    expect(allowedSegments([r(0, 0xffffffff)], [])).to.deep.equal([r(0, 0xffffffff)]);
  });
});
