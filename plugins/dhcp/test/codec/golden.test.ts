import { expect } from 'chai';
import { clientIdOf, getOption, messageTypeOf, parseDhcpPacket, pxeClientInfo, serializeDhcpPacket } from '../../src/codec';
import { golden, goldenPackets } from './golden';

/** The datagram up to and including the END option (what a re-encoding must reproduce). */
function upToEnd(b: Buffer): Buffer {
  let i = 240;
  while (i < b.length && b[i] !== 255) i += b[i] === 0 ? 1 : 2 + b[i + 1];
  return b.subarray(0, i + 1);
}

describe('dhcp codec: golden packets captured from real clients', () => {
  for (const g of goldenPackets()) {
    it(`${g.name}: parses, and re-encodes byte for byte (${g.source})`, () => {
      const p = parseDhcpPacket(g.bytes);
      const again = serializeDhcpPacket(p);
      expect(upToEnd(again).toString('hex')).to.equal(upToEnd(g.bytes).toString('hex'));
      expect(parseDhcpPacket(again)).to.deep.equal(p);
    });
  }

  it('ISC dhclient DISCOVER/REQUEST', () => {
    const d = parseDhcpPacket(golden('dhclient-discover'));
    expect(d).to.include({ op: 1, htype: 1, hlen: 6, chaddr: 'be:af:2d:79:73:49', xid: 0xb5bd0028 });
    expect(messageTypeOf(d)).to.equal(1);
    expect(getOption(d, 'parameterRequestList')).to.deep.equal([1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]);
    expect(clientIdOf(d)).to.equal('01beaf2d797349');
    const r = parseDhcpPacket(golden('dhclient-request'));
    expect(messageTypeOf(r)).to.equal(3);
    expect(getOption(r, 'serverId')).to.equal('198.18.1.1');
    expect(getOption(r, 'requestedIp')).to.equal('198.18.1.125');
  });

  it('busybox udhcpc DISCOVER/REQUEST (client id 61, vendor class, max size)', () => {
    const d = parseDhcpPacket(golden('udhcpc-discover'));
    expect(getOption(d, 'clientId')).to.equal('01beaf2d797349');
    expect(getOption(d, 'vendorClass')).to.equal('udhcpc-test');
    expect(getOption(d, 'maxMessageSize')).to.equal(576);
    expect(getOption(d, 'hostname')).to.equal('pbcap');
    const r = parseDhcpPacket(golden('udhcpc-request'));
    expect(getOption(r, 'requestedIp')).to.equal('198.18.1.125');
  });

  it('iPXE (BIOS ROM): user class iPXE, option 175 feature flags, arch 0', () => {
    const p = parseDhcpPacket(golden('ipxe-bios-discover'));
    expect(pxeClientInfo(p)).to.include({ arch: 0, archName: 'bios', isPxe: true, isIpxe: true });
    expect(getOption(p, 'userClass')).to.deep.equal(['iPXE']);
    const feats = getOption<Array<{ code: number }>>(p, 'ipxeEncap') ?? [];
    expect(feats.map((f) => f.code)).to.include.members([19, 24, 177]);
    expect(getOption(p, 'clientNdi')).to.deep.equal({ type: 1, major: 2, minor: 1 });
  });

  it('EDK2 (OVMF) PXE: arch 7, broadcast flag, UUID 97', () => {
    const p = parseDhcpPacket(golden('edk2-discover'));
    expect(p.flags).to.equal(0x8000);
    expect(pxeClientInfo(p)).to.include({ arch: 7, archName: 'uefi-x86_64', isPxe: true, isIpxe: false, vendorClass: 'PXEClient:Arch:00007:UNDI:003000' });
    expect(getOption(p, 'clientUuid')).to.have.length(34);
    const r = parseDhcpPacket(golden('edk2-request'));
    expect(getOption(r, 'maxMessageSize')).to.equal(65280);
  });

  it('perfdhcp relayed DISCOVER: giaddr and hops set', () => {
    const p = parseDhcpPacket(golden('perfdhcp-relay-discover'));
    expect(p.giaddr).to.equal('198.18.2.2');
    expect(messageTypeOf(p)).to.equal(1);
    expect(p.op).to.equal(1);
  });

  it('dnsmasq OFFER (a server reply)', () => {
    const p = parseDhcpPacket(golden('dnsmasq-offer'));
    expect(p).to.include({ op: 2, yiaddr: '198.18.1.125', siaddr: '198.18.1.1', file: 'undionly.kpxe' });
    expect(getOption(p, 'leaseTime')).to.equal(120);
    expect(getOption(p, 'router')).to.deep.equal(['198.18.1.1']);
  });
});
