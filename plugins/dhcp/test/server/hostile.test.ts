import { expect } from 'chai';
import fc from 'fast-check';
import { getOption, messageTypeOf, serializeDhcpPacket } from '../../src/codec';
import { arbMutated } from '../codec/arbitraries';
import { goldenPackets } from '../codec/golden';
import { clientPacket, DhcpMessageType as M, serverHarness, twoSubnets } from '../support/harness';
import { hostileInputs } from '../support/malformed';

describe('dhcp server: hostile and malformed datagrams', function () {
  this.timeout(60000);

  it('each of the hostile inputs is dropped (and counted) or answered per RFC, and a DORA right after succeeds', async () => {
    const h = serverHarness();
    const victimOffer = (await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:77:01')))[0];
    const victim = victimOffer.packet.yiaddr;
    await h.ask(clientPacket(M.REQUEST, '02:00:00:00:77:01', { options: { serverId: '198.18.1.1', requestedIp: victim } }));
    const inputs = hostileInputs(victim);
    expect(inputs.length).to.be.at.least(30);
    let n = 0;
    for (const input of inputs) {
      const before = {
        malformed: await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'malformed' }),
        cat: input.category ? await h.counter('pureboot_dhcp_packets_dropped_total', { category: input.category }) : 0,
      };
      const replies = await h.ask(input.bytes);
      if (input.expect === 'malformed') {
        expect(replies, input.name).to.have.length(0);
        expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'malformed' }), input.name).to.equal(before.malformed + 1);
      } else if (input.expect === 'nak') {
        expect(replies.map((r) => messageTypeOf(r.packet)), input.name).to.deep.equal([M.NAK]);
      } else if (input.category === 'answered') {
        expect(replies, input.name).to.have.length(1);
      } else {
        expect(replies, input.name).to.have.length(0);
        expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: input.category! }), input.name).to.equal(before.cat + 1);
      }
      // a normal DORA right after
      const mac = `02:00:00:00:88:${(n++).toString(16).padStart(2, '0')}`;
      const [offer] = await h.ask(clientPacket(M.DISCOVER, mac));
      expect(offer, `OFFER after ${input.name}`).to.exist;
      const [ack] = await h.ask(clientPacket(M.REQUEST, mac, { options: { serverId: getOption(offer.packet, 'serverId'), requestedIp: offer.packet.yiaddr } }));
      expect(messageTypeOf(ack.packet), `ACK after ${input.name}`).to.equal(M.ACK);
    }
    // the victim's lease survived the spoofed DECLINE/RELEASE
    const lease = await h.store.findByClientId('lab-a', '01' + '020000007701');
    expect(lease).to.include({ state: 'bound' });
  });

  it('100 000 random and mutated datagrams through the server handler: no crash, every one answered or counted', async () => {
    const h = serverHarness(twoSubnets({ maxNewOffersPerSec: 0 }));
    const seeds = [...goldenPackets().map((g) => g.bytes), serializeDhcpPacket(clientPacket(M.REQUEST, '02:00:00:00:99:01', { options: { requestedIp: '198.18.1.120' } }))];
    const samples = fc.sample(fc.oneof(arbMutated(seeds), fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a))), { numRuns: 100000, seed: 99 });
    const origin = h.options.listen[0];
    for (let i = 0; i < samples.length; i++) {
      // Directly through handle(): the per-datagram path the sockets use.
      await h.server.handle({ data: samples[i], from: { address: '198.18.1.50', port: i % 7 === 0 ? 67 : 68 }, listen: origin });
      if (i % 5000 === 0) h.sent.length = 0;
    }
    await h.server.idle();
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'internal' })).to.equal(0);
    expect(await h.counter('pureboot_dhcp_packets_dropped_total', { category: 'malformed' })).to.be.greaterThan(1000);
    // The fuzz may have taken the whole pool with offers and leases: once they expire the server answers again.
    h.clock.advance(601_000);
    await h.server.reclaim(100_000);
    const [offer] = await h.ask(clientPacket(M.DISCOVER, '02:00:00:00:99:02'));
    expect(offer).to.exist;
  });
});
