import { expect } from 'chai';
import { Stage } from '@pureboot/core';
import { captured, counter, craft, decode, rig, vendorHex } from './helpers';

const CLIENT = { address: '0.0.0.0', port: 68 };

describe('proxy-dhcp: handler (decode → hooks → answer)', () => {
  it('OVMF (EDK2) DISCOVER, captured: proxy OFFER with yiaddr 0, PXEClient, server id, option 43, snponly.efi, broadcast', async () => {
    const r = rig();
    const a = await r.handler.handle(captured('edk2-discover'), CLIENT, 'dhcp');
    expect(a, 'an answer').to.not.equal(undefined);
    if (!a) return;
    expect(a.to).to.deep.equal({ address: '255.255.255.255', port: 68 });
    const p = decode(a.data);
    const req = decode(captured('edk2-discover'));
    expect(p.op).to.equal(2);
    expect(p.xid).to.equal(req.xid);
    expect(p.chaddr).to.equal('52:54:00:65:43:21');
    expect(p.yiaddr).to.equal('0.0.0.0');
    expect(p.siaddr).to.equal('198.18.3.1');
    expect(p.file).to.equal('uefi/snponly.efi');
    expect(p.options.get(53)?.[0]).to.equal(2);
    expect(p.options.get(54)?.toString('hex')).to.equal('c6120301');
    expect(p.options.get(60)?.toString()).to.equal('PXEClient');
    expect(vendorHex(p)).to.equal('060108ff');
    expect(p.options.has(51), 'no lease time: the proxy hands out no address').to.equal(false);
    await r.handler.sent(a);
    expect(r.events).to.have.length(1);
    expect(r.events[0]).to.deep.include({ mac: '52:54:00:65:43:21', source: 'proxy-dhcp', kind: 'proxy.offer' });
    expect(r.events[0].detail).to.include({ arch: 7, archName: 'uefi-x86_64', bootFile: 'uefi/snponly.efi', answer: 'binary' });
    expect(r.sent[0]).to.include({ protocol: 'proxy-dhcp', messageType: 'OFFER', mac: '52:54:00:65:43:21' });
  });

  it('iPXE ROM DISCOVER, captured (user class iPXE + option 175): the boot API script URL', async () => {
    const r = rig();
    const a = await r.handler.handle(captured('ipxe-bios-discover'), CLIENT, 'dhcp');
    expect(a && decode(a.data).file).to.equal('http://198.18.3.1:8080/api/v1/ipxe/boot.ipxe');
  });

  it('iPXE with option 175 only (no user class) is iPXE too', async () => {
    const r = rig();
    const a = await r.handler.handle(craft({ arch: 7, ipxe175: true }), CLIENT, 'dhcp');
    expect(a && decode(a.data).file).to.equal('http://198.18.3.1:8080/api/v1/ipxe/boot.ipxe');
  });

  for (const name of ['dhclient-discover', 'udhcpc-discover']) {
    it(`${name}, captured: not a PXE client — no answer, counted as not-for-us`, async () => {
      const r = rig();
      expect(await r.handler.handle(captured(name), CLIENT, 'dhcp')).to.equal(undefined);
      expect(await counter(r.registry, 'pureboot_proxy_dhcp_dropped_total', { category: 'not-for-us' })).to.equal(1);
      expect(r.dropped[0]).to.include({ protocol: 'proxy-dhcp', category: 'not-for-us' });
    });
  }

  it('BIOS / UEFI x86-64 (7, 9) / arm64 each get their boot file; option 97 is echoed', async () => {
    const r = rig();
    const uuid = '00' + '11223344556677889900aabbccddeeff';
    for (const [arch, file] of [
      [0, 'bios/undionly.kpxe'],
      [7, 'uefi/snponly.efi'],
      [9, 'uefi/snponly.efi'],
      [11, 'uefi/arm64/snp.efi'],
    ] as const) {
      const a = await r.handler.handle(craft({ arch, uuid }), CLIENT, 'dhcp');
      const p = a && decode(a.data);
      expect(p && p.file, `arch ${arch}`).to.equal(file);
      expect(p && p.options.get(97)?.toString('hex')).to.equal(uuid);
    }
  });

  it('UEFI HTTP boot (HTTPClient, arch 16): a URL and HTTPClient echoed in option 60, no option 43', async () => {
    const r = rig();
    const a = await r.handler.handle(craft({ arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003001' }), CLIENT, 'dhcp');
    const p = a && decode(a.data);
    expect(p && p.file).to.equal('http://198.18.3.1:8080/api/v1/assets/uefi/snponly.efi');
    expect(p && p.options.get(60)?.toString()).to.equal('HTTPClient');
    expect(p && p.options.has(43)).to.equal(false);
  });

  it('4011 REQUEST, captured from OVMF: DHCPACK with the same boot file, unicast back to the client; proxy.ack event with its address', async () => {
    const r = rig();
    const from = { address: '198.18.3.120', port: 68 };
    const a = await r.handler.handle(captured('edk2-request'), from, 'boot-server');
    expect(a).to.not.equal(undefined);
    if (!a) return;
    expect(a.to).to.deep.equal(from);
    const p = decode(a.data);
    expect(p.options.get(53)?.[0]).to.equal(5);
    expect(p.file).to.equal('uefi/snponly.efi');
    expect(p.yiaddr).to.equal('0.0.0.0');
    await r.handler.sent(a);
    expect(r.events[0]).to.include({ kind: 'proxy.ack', address: '198.18.3.120', mac: '52:54:00:65:43:21' });
  });

  it('a DISCOVER on 4011 and a REQUEST on 67 are not answered (the REQUEST is observed as proxy.request)', async () => {
    const r = rig();
    expect(await r.handler.handle(craft({ arch: 0 }), CLIENT, 'boot-server')).to.equal(undefined);
    expect(await r.handler.handle(craft({ arch: 0, type: 3, requestedIp: '198.18.3.110' }), CLIENT, 'dhcp')).to.equal(undefined);
    await new Promise((res) => setImmediate(res));
    expect(r.events.map((e) => [e.kind, e.address])).to.deep.equal([['proxy.request', '198.18.3.110']]);
  });

  it('a relayed DISCOVER (giaddr set) is answered by unicast to giaddr:67', async () => {
    const r = rig();
    const a = await r.handler.handle(craft({ arch: 7, giaddr: '198.18.3.254' }), { address: '198.18.3.254', port: 67 }, 'dhcp');
    expect(a?.to).to.deep.equal({ address: '198.18.3.254', port: 67 });
    expect(a && decode(a.data).giaddr).to.equal('198.18.3.254');
  });

  it('site policy: packetReceive drops, leaseDecision refuses one MAC and overrides the boot file of another', async () => {
    const r = rig();
    r.hooks.packetReceive.tap('site:deny', (c) => (c.mac === '52:54:00:00:00:0d' ? { drop: true as const, reason: 'denylisted' } : undefined));
    r.hooks.leaseDecision.tap({ name: 'site:policy', stage: Stage.DEFAULT }, (c) => {
      if (c.protocol !== 'proxy-dhcp') return undefined;
      if (c.mac === '52:54:00:00:00:01') return { action: 'ignore', reason: 'not ours' };
      if (c.mac === '52:54:00:00:00:02') return { action: 'answer', bootFile: 'site/special.efi', nextServer: '198.18.3.9' };
      return undefined;
    });
    expect(await r.handler.handle(craft({ arch: 7, mac: '52:54:00:00:00:0d' }), CLIENT, 'dhcp')).to.equal(undefined);
    expect(await r.handler.handle(craft({ arch: 7, mac: '52:54:00:00:00:01' }), CLIENT, 'dhcp')).to.equal(undefined);
    const a = await r.handler.handle(craft({ arch: 7, mac: '52:54:00:00:00:02' }), CLIENT, 'dhcp');
    const p = a && decode(a.data);
    expect(p && [p.file, p.siaddr, vendorHex(p)]).to.deep.equal(['site/special.efi', '198.18.3.9', '060108ff']);
    const b = await r.handler.handle(craft({ arch: 7, mac: '52:54:00:00:00:03' }), CLIENT, 'dhcp');
    expect(b && decode(b.data).file).to.equal('uefi/snponly.efi');
    expect(r.dropped.map((d) => d.category)).to.deep.equal(['policy', 'policy']);
    expect(await counter(r.registry, 'pureboot_proxy_dhcp_dropped_total', { category: 'policy' })).to.equal(2);
  });

  it('a site answer with options: option 43 removed by null, other options added; unencodable options drop the request', async () => {
    const r = rig();
    r.hooks.leaseDecision.tap('site:options', (c) => {
      if (c.mac === '52:54:00:00:00:05') return { action: 'answer', options: { vendorSpecific: null, tftpServer: 'tftp.site.example' } };
      if (c.mac === '52:54:00:00:00:06') return { action: 'answer', options: { router: 'not-an-ip' } };
      return undefined;
    });
    const a = await r.handler.handle(craft({ arch: 0, mac: '52:54:00:00:00:05' }), CLIENT, 'dhcp');
    const p = a && decode(a.data);
    expect(p && [p.file, p.options.has(43), p.options.get(66)?.toString()]).to.deep.equal(['bios/undionly.kpxe', false, 'tftp.site.example']);
    expect(a?.kind).to.equal('site');
    expect(await r.handler.handle(craft({ arch: 0, mac: '52:54:00:00:00:06' }), CLIENT, 'dhcp')).to.equal(undefined);
    expect(r.dropped.map((d) => d.category)).to.deep.equal(['policy']);
  });

  it('a failing tap drops the packet as hook-error, and the next request is answered', async () => {
    const r = rig();
    let fail = true;
    r.hooks.leaseDecision.tap('site:broken', () => {
      if (fail) throw new Error('boom');
      return undefined;
    });
    expect(await r.handler.handle(craft({ arch: 0 }), CLIENT, 'dhcp')).to.equal(undefined);
    expect(r.dropped[0]).to.include({ category: 'hook-error' });
    fail = false;
    expect(await r.handler.handle(craft({ arch: 0 }), CLIENT, 'dhcp')).to.not.equal(undefined);
  });

  it('a client rule delays the answer', async () => {
    const r = rig({ rules: [{ match: { macPrefix: '52:54:00:aa' }, delayMs: 1500 }] });
    const a = await r.handler.handle(craft({ arch: 7 }), CLIENT, 'dhcp');
    expect(a?.delayMs).to.equal(1500);
  });
});
