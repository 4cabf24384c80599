import { expect } from 'chai';
import { codec } from '@pureboot/plugin-dhcp';
import { counter, craft, decode, rig } from './helpers';
import { HOSTILE, validDiscover } from './hostile';

describe('proxy-dhcp: malformed and hostile datagrams are dropped and counted, never crash', () => {
  for (const h of HOSTILE) {
    it(`${h.name} → ${h.category}, then a normal exchange works`, async () => {
      const r = rig();
      const a = await r.handler.handle(h.data(), { address: '198.18.3.99', port: 68 }, 'dhcp');
      if (h.category !== 'none-or-answer') {
        expect(a, 'no answer').to.equal(undefined);
        expect(r.dropped, 'one packetDropped').to.have.length(1);
        if (h.category !== 'any-drop') expect(r.dropped[0].category).to.equal(h.category);
        expect(await counter(r.registry, 'pureboot_proxy_dhcp_dropped_total')).to.equal(1);
      }
      const ok = await r.handler.handle(validDiscover(), { address: '0.0.0.0', port: 68 }, 'dhcp');
      expect(ok && decode(ok.data).file).to.equal('uefi/snponly.efi');
    });
  }

  it('a malformed option 43 in a 4011 request only loses the menu choice', async () => {
    const r = rig();
    const b = craft({ arch: 7, type: 3 });
    const p = decode(b);
    p.options.set(43, Buffer.from('4704800100', 'hex')); // sub-option 71 claims 4 bytes, has 3
    const a = await r.handler.handle(codec.serializeDhcpPacket(p), { address: '198.18.3.120', port: 68 }, 'boot-server');
    expect(a && decode(a.data).file).to.equal('uefi/snponly.efi');
  });
});
