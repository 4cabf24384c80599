import { expect } from 'chai';
import { intToIp, ipToInt, Stage, type LeaseEvent } from '@pureboot/core';
import { getOption, messageTypeOf } from '../../src/codec';
import { clientPacket, DhcpMessageType as M, LINK_A, LINK_B, serverHarness, twoSubnets } from '../support/harness';

const MAC = '02:00:00:00:00:01';

async function dora(h: ReturnType<typeof serverHarness>, mac: string, o: { listen?: typeof LINK_A } = {}) {
  const [offer] = await h.ask(clientPacket(M.DISCOVER, mac), o);
  expect(offer, 'OFFER').to.exist;
  const ip = offer.packet.yiaddr;
  const [ack] = await h.ask(clientPacket(M.REQUEST, mac, { options: { serverId: getOption(offer.packet, 'serverId'), requestedIp: ip } }), o);
  return { offer, ack, ip };
}

describe('dhcp server: RFC 2131 state handling (real hooks + in-memory lease store)', () => {
  it('DISCOVER → OFFER with subnet options, REQUEST → ACK after the lease is stored', async () => {
    const h = serverHarness();
    const events: LeaseEvent[] = [];
    h.hooks.leaseCommitted.tap('t', (e) => void events.push(e));
    const { offer, ack, ip } = await dora(h, MAC);
    expect(messageTypeOf(offer.packet)).to.equal(M.OFFER);
    expect(offer.to).to.deep.equal({ address: '255.255.255.255', port: 68 });
    expect(ip).to.match(/^198\.18\.1\.1\d\d$/);
    expect(getOption(offer.packet, 'router')).to.deep.equal(['198.18.1.1']);
    expect(getOption(offer.packet, 'subnetMask')).to.equal('255.255.255.0');
    expect(getOption(offer.packet, 'leaseTime')).to.equal(600);
    expect(getOption(offer.packet, 'renewalTime')).to.equal(300);
    expect(getOption(offer.packet, 'rebindingTime')).to.equal(525);
    expect(getOption(offer.packet, 'domainName')).to.equal('lab.test');
    expect(messageTypeOf(ack.packet)).to.equal(M.ACK);
    expect(ack.packet.yiaddr).to.equal(ip);
    const lease = await h.store.findByAddress(ipToInt(ip));
    expect(lease).to.include({ state: 'bound', mac: MAC, subnetId: 'lab-a' });
    expect(events.map((e) => e.kind)).to.deep.equal(['offered', 'bound']);
  });

  it('excluded ranges and reservations are never handed out dynamically', async () => {
    const h = serverHarness();
    const got = new Set<string>();
    for (let i = 0; i < 90; i++) {
      const [o] = await h.ask(clientPacket(M.DISCOVER, `02:00:00:00:10:${i.toString(16).padStart(2, '0')}`));
      got.add(o.packet.yiaddr);
    }
    expect(got.size).to.equal(90);
    for (const ip of got) expect(ipToInt(ip) >= ipToInt('198.18.1.150') && ipToInt(ip) <= ipToInt('198.18.1.159'), ip).to.equal(false);
    // pool of 100 minus 10 excluded = 90: the next one is exhausted (no OFFER, counted).
    expect(await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:11:00'))).to.have.length(0);
    expect(await h.counter('pureboot_dhcp_pool_exhausted_total', { subnet: 'lab-a' })).to.equal(1);
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'exhausted' })).to.equal(1);
  });

  it('a reservation gets its address, hostname and per-host boot file; a REQUEST for another address is NAKed', async () => {
    const h = serverHarness();
    const { offer, ack } = await dora(h, '02:00:00:00:aa:01');
    expect(offer.packet.yiaddr).to.equal('198.18.1.10');
    expect(getOption(ack.packet, 'hostname')).to.equal('reserved1');
    expect(ack.packet.file).to.equal('custom/host.efi');
    const [nak] = await h.ask(clientPacket(M.REQUEST, '02:00:00:00:aa:01', { options: { requestedIp: '198.18.1.120' } }));
    expect(messageTypeOf(nak.packet)).to.equal(M.NAK);
  });

  it('INIT-REBOOT: ACK for the own address, NAK for a wrong one or another network', async () => {
    const h = serverHarness();
    const { ip } = await dora(h, MAC);
    const [ok] = await h.ask(clientPacket(M.REQUEST, MAC, { options: { requestedIp: ip } }));
    expect(messageTypeOf(ok.packet)).to.equal(M.ACK);
    const other = intToIp(ipToInt(ip) + 1);
    await dora(h, '02:00:00:00:00:02');
    const [nak] = await h.ask(clientPacket(M.REQUEST, '02:00:00:00:00:02', { options: { requestedIp: ip } }));
    expect(messageTypeOf(nak.packet)).to.equal(M.NAK);
    expect(nak.to.address).to.equal('255.255.255.255');
    const [nak2] = await h.ask(clientPacket(M.REQUEST, MAC, { options: { requestedIp: '10.1.2.3' } }));
    expect(messageTypeOf(nak2.packet)).to.equal(M.NAK);
    expect(other).to.not.equal(ip);
  });

  it('RENEWING is answered by unicast to ciaddr, REBINDING too; T1/T2 set', async () => {
    const h = serverHarness();
    const { ip } = await dora(h, MAC);
    h.clock.advance(300_000);
    const [ack] = await h.ask(clientPacket(M.REQUEST, MAC, { ciaddr: ip }), { from: { address: ip, port: 68 } });
    expect(messageTypeOf(ack.packet)).to.equal(M.ACK);
    expect(ack.to).to.deep.equal({ address: ip, port: 68 });
    expect(ack.packet.ciaddr).to.equal(ip);
    const lease = await h.store.findByAddress(ipToInt(ip));
    expect(lease?.expiresAt).to.equal(h.clock.now() + 600_000);
  });

  it('a REQUEST for an address outside the pool, or with another server id, gets NAK or silence', async () => {
    const h = serverHarness();
    await dora(h, MAC);
    const [nak] = await h.ask(clientPacket(M.REQUEST, MAC, { options: { requestedIp: '198.18.1.20' } }));
    expect(messageTypeOf(nak.packet)).to.equal(M.NAK);
    expect(await h.ask(clientPacket(M.REQUEST, MAC, { options: { serverId: '198.18.1.77', requestedIp: '198.18.1.120' } }))).to.have.length(0);
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'not-for-us' })).to.equal(1);
  });

  it('DECLINE quarantines the address: the next client gets another one', async () => {
    const h = serverHarness();
    const { ip } = await dora(h, MAC);
    expect(await h.ask(clientPacket(M.DECLINE, MAC, { options: { serverId: '198.18.1.1', requestedIp: ip } }))).to.have.length(0);
    expect(await h.store.findByAddress(ipToInt(ip))).to.include({ state: 'declined' });
    const [offer] = await h.ask(clientPacket(M.DISCOVER, MAC));
    expect(offer.packet.yiaddr).to.not.equal(ip);
    const [o2] = await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:00:09', { options: { requestedIp: ip } }));
    expect(o2.packet.yiaddr).to.not.equal(ip);
  });

  it("DECLINE / RELEASE of someone else's lease are dropped and counted", async () => {
    const h = serverHarness();
    const { ip } = await dora(h, MAC);
    await h.ask(clientPacket(M.DECLINE, '02:00:00:00:00:66', { options: { serverId: '198.18.1.1', requestedIp: ip } }));
    await h.ask(clientPacket(M.RELEASE, '02:00:00:00:00:66', { ciaddr: ip, options: { serverId: '198.18.1.1' } }));
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'not-owner' })).to.equal(2);
    expect(await h.store.findByAddress(ipToInt(ip))).to.include({ state: 'bound', mac: MAC });
  });

  it('RELEASE frees the lease; INFORM gets configuration without an address', async () => {
    const h = serverHarness();
    const { ip } = await dora(h, MAC);
    await h.ask(clientPacket(M.RELEASE, MAC, { ciaddr: ip, options: { serverId: '198.18.1.1' } }));
    expect(await h.store.findByAddress(ipToInt(ip))).to.include({ state: 'released' });
    const [ack] = await h.ask(clientPacket(M.INFORM, '02:00:00:00:00:44', { ciaddr: '198.18.1.44' }), { from: { address: '198.18.1.44', port: 68 } });
    expect(messageTypeOf(ack.packet)).to.equal(M.ACK);
    expect(ack.packet.yiaddr).to.equal('0.0.0.0');
    expect(getOption(ack.packet, 'leaseTime')).to.equal(undefined);
    expect(ack.to).to.deep.equal({ address: '198.18.1.44', port: 68 });
  });

  it('expired leases are reclaimed on the (fake) clock and can go to another client', async () => {
    const h = serverHarness();
    const { ip } = await dora(h, MAC);
    h.clock.advance(601_000);
    expect(await h.server.reclaim()).to.equal(1);
    expect(await h.store.findByAddress(ipToInt(ip))).to.include({ state: 'expired' });
    const [o] = await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:00:77', { options: { requestedIp: ip } }));
    expect(o.packet.yiaddr).to.equal(ip);
  });

  it('two links: each direct client is answered from its own subnet and link', async () => {
    const h = serverHarness();
    const a = await dora(h, MAC, { listen: LINK_A });
    const b = await dora(h, '02:00:00:00:00:0b', { listen: LINK_B });
    expect(a.ip).to.match(/^198\.18\.1\./);
    expect(b.ip).to.match(/^198\.18\.2\./);
    expect(b.ack.listen).to.equal(LINK_B);
    expect(getOption(b.ack.packet, 'serverId')).to.equal('198.18.2.1');
  });

  it('relayed: subnet by giaddr (or option 82 link selection), reply to giaddr:67, option 82 echoed', async () => {
    const h = serverHarness();
    const rai = [
      { code: 1, data: '706f727431' },
      { code: 2, data: 'aabb' },
    ];
    const [offer] = await h.ask(clientPacket(M.DISCOVER, MAC, { giaddr: '198.18.2.2', options: { relayAgentInfo: rai } }), { from: { address: '198.18.2.2', port: 67 } });
    expect(offer.to).to.deep.equal({ address: '198.18.2.2', port: 67 });
    expect(offer.packet.yiaddr).to.match(/^198\.18\.2\./);
    expect(getOption(offer.packet, 'relayAgentInfo')).to.deep.equal(rai);
    const [o2] = await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:00:0c', { giaddr: '198.18.2.2', options: { relayAgentInfo: [{ code: 5, data: 'c6120100' }] } }), {
      from: { address: '198.18.2.2', port: 67 },
    });
    expect(o2.packet.yiaddr).to.match(/^198\.18\.1\./);
    // giaddr from a client port = spoofing
    expect(await h.ask(clientPacket(M.DISCOVER, MAC, { giaddr: '198.18.2.2' }), { from: { address: '198.18.1.5', port: 68 } })).to.have.length(0);
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'spoofed' })).to.equal(1);
  });

  it('a site-policy tap pre-empts the allocator: fixed address for one MAC, refusal for another, boot file override', async () => {
    const h = serverHarness();
    h.hooks.leaseDecision.tapPromise({ name: 'site-policy', stage: Stage.DEFAULT }, async (ctx) => {
      if (ctx.mac === '02:00:00:00:00:aa') return { action: 'answer', address: '198.18.1.199', bootFile: 'site/special.efi', options: { domainName: 'site.test' } };
      if (ctx.mac === '02:00:00:00:00:bb') return { action: 'ignore', reason: 'not allowed here' };
      return undefined;
    });
    const { ip, ack } = await dora(h, '02:00:00:00:00:aa');
    expect(ip).to.equal('198.18.1.199');
    expect(ack.packet.file).to.equal('site/special.efi');
    expect(getOption(ack.packet, 'domainName')).to.equal('site.test');
    expect(await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:00:bb'))).to.have.length(0);
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'policy' })).to.equal(1);
    const { ip: other } = await dora(h, MAC);
    expect(other).to.not.equal('198.18.1.199');
  });

  it('packetReceive can drop; a throwing tap counts as hook-error', async () => {
    const h = serverHarness();
    h.hooks.packetReceive.tap('guard', (c) => (c.mac === '02:00:00:00:00:dd' ? { drop: true, reason: 'blocked' } : undefined));
    h.hooks.leaseDecision.tap('broken', (c) => {
      if (c.mac === '02:00:00:00:00:ee') throw new Error('boom');
      return undefined;
    });
    expect(await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:00:dd'))).to.have.length(0);
    expect(await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:00:ee'))).to.have.length(0);
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'policy' })).to.equal(1);
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'hook-error' })).to.equal(1);
    await dora(h, MAC);
  });

  it('random-MAC DISCOVER floods take at most maxNewOffersPerSec new addresses; known clients are still answered', async () => {
    const h = serverHarness(twoSubnets({ maxNewOffersPerSec: 5 }));
    let offers = 0;
    for (let i = 0; i < 20; i++) offers += (await h.ask(clientPacket(M.DISCOVER, `02:00:00:00:20:${i.toString(16).padStart(2, '0')}`))).length;
    expect(offers).to.equal(5);
    h.clock.advance(1000);
    expect(await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:21:00'))).to.have.length(1);
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'rate-limit' })).to.equal(15);
    // the refused ones did not keep their address
    const held = await h.store.list({ subnetId: 'lab-a', state: 'offered', limit: 100 });
    expect(held.items).to.have.length(6);
    // bucket empty again, but a client with an offer is answered (its address is reused)
    for (let i = 0; i < 10; i++) await h.ask(clientPacket(M.DISCOVER, `02:00:00:00:22:${i.toString(16).padStart(2, '0')}`));
    expect(await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:20:00'))).to.have.length(1);
  });
});
