import { expect } from 'chai';
import fc from 'fast-check';
import type { NodeRecord } from '@pureboot/core';
import { deepCopy } from '../src/copy';
import { copyNode } from '../src/node-table';

/** Every object reachable from v. */
function objects(v: unknown, out = new Set<object>()): Set<object> {
  if (v !== null && typeof v === 'object') {
    out.add(v);
    for (const x of Object.values(v)) objects(x, out);
  }
  return out;
}

describe('storage-memory copyNode (the store read path)', () => {
  it('equals deepCopy on any record and shares no object with the stored one (5 000 records)', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const flat = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(undefined)), { maxKeys: 5 });
    const record = fc.record(
      {
        mac: fc.constant('02:00:00:00:00:01'),
        state: fc.constantFrom('discovered', 'pending', 'active'),
        version: fc.nat(),
        arch: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
        labels: flat,
        profile: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
        attributes: fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 4 }),
        firstSeen: fc.nat(),
        lastSeen: fc.nat(),
        stateSince: fc.nat(),
        history: fc.array(fc.oneof(flat, fc.record({ from: fc.constant(null), to: fc.constant('active'), at: fc.nat(), reason: fc.string(), nested: json })), { maxLength: 4 }),
      },
      { requiredKeys: ['mac', 'state', 'version', 'labels', 'attributes', 'firstSeen', 'lastSeen', 'stateSince', 'history'] },
    );
    fc.assert(
      fc.property(record, (r) => {
        const n = r as unknown as NodeRecord;
        const c = copyNode(n);
        expect(c).to.deep.equal(deepCopy(n));
        expect(Object.keys(c)).to.deep.equal(Object.keys(n));
        const shared = [...objects(c)].filter((o) => objects(n).has(o));
        expect(shared).to.deep.equal([]);
      }),
      { numRuns: 5000 },
    );
  });
});
