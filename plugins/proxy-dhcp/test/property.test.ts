import { expect } from 'chai';
import fc from 'fast-check';
import { captured, craft, decode, rig } from './helpers';

const SEEDS: Buffer[] = [
  captured('edk2-discover'),
  captured('edk2-request'),
  captured('ipxe-bios-discover'),
  captured('ipxe-bios-request'),
  captured('dhclient-discover'),
  captured('udhcpc-discover'),
  craft({ arch: 11, uuid: '00' + '11'.repeat(16), giaddr: '198.18.3.254' }),
  craft({ arch: 16, vendorClass: 'HTTPClient:Arch:00016' }),
  craft({ arch: 0, type: 3, bootItem: { type: 0x8001, layer: 0 } }),
];

/** A seed datagram with random edits: byte overwrites, a truncation, an inserted run. */
const mutated = fc
  .record({
    seed: fc.integer({ min: 0, max: SEEDS.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 40 })), { nil: undefined }),
  })
  .map(({ seed, edits, cut, insert }) => {
    let b = Buffer.from(SEEDS[seed]);
    // Edits land mostly in the option area (after the 240-byte header) where the parsing is.
    for (const [at, v] of edits) b[at % 3 === 0 ? at % b.length : 240 + (at % Math.max(1, b.length - 240))] = v;
    if (insert) {
      const at = insert[0] % b.length;
      b = Buffer.concat([b.subarray(0, at), Buffer.from(insert[1]), b.subarray(at)]);
    }
    if (cut !== undefined) b = b.subarray(0, cut % (b.length + 1));
    return b;
  });

const RUNS = Number(process.env.PROXY_PROPERTY_RUNS ?? 50000);

describe('proxy-dhcp: property — random and mutated datagrams through the handler', function () {
  this.timeout(60000);

  it(`${RUNS} mutated/random datagrams on both ports: no exception, every answer is a proxy answer (op 2, yiaddr 0, PXEClient/HTTPClient)`, async () => {
    const r = rig({ menu: { prompt: 'm', timeoutSec: 1, items: [{ type: 0x8001, description: 'x' }] } });
    let answers = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 700 }).map((u) => Buffer.from(u)) }), fc.boolean(), async (buf, bootServer) => {
        const a = await r.handler.handle(buf, { address: '198.18.3.77', port: 68 }, bootServer ? 'boot-server' : 'dhcp');
        if (!a) return;
        answers++;
        const p = decode(a.data);
        expect(p.op).to.equal(2);
        expect(p.yiaddr).to.equal('0.0.0.0');
        expect(['PXEClient', 'HTTPClient']).to.include(p.options.get(60)?.toString());
        expect(a.data.length).to.be.at.most(576);
      }),
      { numRuns: RUNS, seed: 4011 },
    );
    if (process.env.PROXY_PROPERTY_VERBOSE) console.log({ answers, dropped: r.dropped.length });
    expect(answers, 'some mutated requests are still valid PXE requests').to.be.greaterThan(0);
    expect(r.dropped.length).to.be.greaterThan(RUNS / 10);
  });
});
