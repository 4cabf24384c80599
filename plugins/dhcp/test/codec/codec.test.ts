import { expect } from 'chai';
import {
  DhcpCodecError,
  DhcpMessageType,
  Opt,
  clientIdOf,
  emptyPacket,
  encodeOptionValues,
  encodePxeVendorOptions,
  decodePxeVendorOptions,
  getOption,
  messageTypeOf,
  orderReplyOptions,
  parseDhcpPacket,
  pxeClientInfo,
  relayAgentInfoOf,
  serializeDhcpPacket,
  setOption,
  type DhcpPacket,
} from '../../src/codec';

function request(): DhcpPacket {
  const p = emptyPacket(1);
  p.xid = 0x12345678;
  p.chaddr = '52:54:00:aa:bb:cc';
  setOption(p, 'messageType', DhcpMessageType.DISCOVER);
  return p;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(DhcpCodecError);
    return (err as DhcpCodecError).code;
  }
  throw new Error('expected a DhcpCodecError');
}

describe('dhcp codec: parse/serialize', () => {
  it('round-trips header fields and options', () => {
    const p = request();
    p.flags = 0x8000;
    p.giaddr = '198.18.2.1';
    p.hops = 1;
    p.secs = 7;
    p.sname = 'srv';
    p.file = 'boot/file.efi';
    setOption(p, 'hostname', 'node1');
    setOption(p, 'parameterRequestList', [1, 3, 6, 15, 66, 67]);
    const wire = serializeDhcpPacket(p);
    expect(wire.length).to.be.at.least(300);
    const back = parseDhcpPacket(wire);
    expect(back).to.deep.equal(p);
    expect(messageTypeOf(back)).to.equal(1);
    expect(getOption(back, 'hostname')).to.equal('node1');
    expect(getOption(back, 55)).to.deep.equal([1, 3, 6, 15, 66, 67]);
  });

  it('splits options longer than 255 bytes and concatenates them back (RFC 3396)', () => {
    const p = request();
    const big = Buffer.alloc(700, 0x41);
    p.options.set(Opt.VENDOR_SPECIFIC, big);
    const wire = serializeDhcpPacket(p);
    // Three instances of option 43: 255 + 255 + 190.
    let count = 0;
    for (let i = 240; i < wire.length && wire[i] !== 255; i += 2 + wire[i + 1]) if (wire[i] === 43) count++;
    expect(count).to.equal(3);
    expect(parseDhcpPacket(wire).options.get(43)).to.deep.equal(big);
  });

  it('overloads file and sname when the options do not fit maxSize (option 52)', () => {
    const p = request();
    p.options.set(Opt.VENDOR_SPECIFIC, Buffer.alloc(400, 7));
    const wire = serializeDhcpPacket(p, { maxSize: 548 });
    expect(wire.length).to.be.at.most(548);
    const i52 = wire.indexOf(Buffer.from([52, 1]), 240);
    expect(i52).to.be.greaterThan(0);
    const back = parseDhcpPacket(wire);
    expect(back.options.get(43)).to.deep.equal(p.options.get(43));
    expect(back.file).to.equal('');
    expect(() => serializeDhcpPacket(p, { maxSize: 400 })).to.throw(DhcpCodecError);
    expect(codeOf(() => serializeDhcpPacket(p, { maxSize: 400 }))).to.equal('PB_ERR_DHCP_TOO_LARGE');
  });

  it('parses options carried in file then sname, in that order', () => {
    const p = request();
    const wire = serializeDhcpPacket(p);
    // Insert overload 3 before END, options 12 in file and sname.
    const end = wire.indexOf(255, 240);
    const buf = Buffer.concat([wire.subarray(0, end), Buffer.from([52, 1, 3, 255]), Buffer.alloc(20)]);
    Buffer.from([12, 2, 0x61, 0x62, 255]).copy(buf, 108);
    Buffer.from([12, 1, 0x63, 255]).copy(buf, 44);
    const back = parseDhcpPacket(buf);
    expect(getOption(back, 'hostname')).to.equal('abc');
    expect(back.sname).to.equal('');
  });

  const malformed: Array<[string, () => Buffer, string]> = [
    ['empty datagram', () => Buffer.alloc(0), 'PB_ERR_DHCP_TRUNCATED'],
    ['header only', () => serializeDhcpPacket(request()).subarray(0, 236), 'PB_ERR_DHCP_TRUNCATED'],
    ['cut cookie', () => serializeDhcpPacket(request()).subarray(0, 238), 'PB_ERR_DHCP_TRUNCATED'],
    ['bad cookie', () => Object.assign(serializeDhcpPacket(request()), {}).fill(1, 236, 240), 'PB_ERR_DHCP_BAD_COOKIE'],
    ['op 3', () => serializeDhcpPacket(request()).fill(3, 0, 1), 'PB_ERR_DHCP_BAD_HEADER'],
    ['hlen 17', () => serializeDhcpPacket(request()).fill(17, 2, 3), 'PB_ERR_DHCP_BAD_HEADER'],
    ['option past the end', () => Buffer.concat([serializeDhcpPacket(request()).subarray(0, 240), Buffer.from([12, 10, 1, 2])]), 'PB_ERR_DHCP_TRUNCATED'],
    ['option without length', () => Buffer.concat([serializeDhcpPacket(request()).subarray(0, 240), Buffer.from([12])]), 'PB_ERR_DHCP_TRUNCATED'],
    ['overload value 4', () => Buffer.concat([serializeDhcpPacket(request()).subarray(0, 240), Buffer.from([52, 1, 4, 255])]), 'PB_ERR_DHCP_BAD_OPTION'],
    ['overload twice', () => Buffer.concat([serializeDhcpPacket(request()).subarray(0, 240), Buffer.from([52, 1, 1, 52, 1, 1, 255])]), 'PB_ERR_DHCP_BAD_OPTION'],
    [
      'overload loop (52 inside file)',
      () => {
        const b = Buffer.concat([serializeDhcpPacket(request()).subarray(0, 240), Buffer.from([52, 1, 1, 255])]);
        Buffer.from([52, 1, 3, 255]).copy(b, 108);
        return b;
      },
      'PB_ERR_DHCP_BAD_OPTION',
    ],
  ];
  for (const [name, make, code] of malformed) {
    it(`rejects ${name} with ${code}`, () => {
      expect(codeOf(() => parseDhcpPacket(make()))).to.equal(code);
    });
  }

  it('type-checks option payloads when read', () => {
    const p = request();
    p.options.set(Opt.SUBNET_MASK, Buffer.from([255, 255]));
    p.options.set(Opt.HOSTNAME, Buffer.alloc(0));
    expect(codeOf(() => getOption(p, 'subnetMask'))).to.equal('PB_ERR_DHCP_BAD_OPTION');
    expect(codeOf(() => getOption(p, 'hostname'))).to.equal('PB_ERR_DHCP_BAD_OPTION');
    expect(codeOf(() => setOption(p, 'router', ['300.1.1.1']))).to.equal('PB_ERR_DHCP_BAD_VALUE');
    expect(codeOf(() => setOption(p, 'noSuchOption', 1))).to.equal('PB_ERR_DHCP_BAD_VALUE');
  });

  it('encodes option records by name or code and orders replies by the parameter request list', () => {
    const opts = encodeOptionValues({ router: ['198.18.1.1'], dns: ['198.18.1.2', '198.18.1.3'], 15: 'lab.test', messageType: 2, serverId: '198.18.1.1', option224: 'beef' });
    expect([...opts.keys()]).to.deep.equal([15, 3, 6, 53, 54, 224]); // integer keys come first in JS objects
    const ordered = orderReplyOptions(opts, [15, 6, 3]);
    expect([...ordered.keys()]).to.deep.equal([53, 54, 15, 6, 3, 224]);
    expect([...orderReplyOptions(opts, [6], { onlyRequested: true }).keys()]).to.deep.equal([53, 54, 6]);
  });

  it('derives the client identity from option 61 or chaddr', () => {
    const p = request();
    expect(clientIdOf(p)).to.equal('01525400aabbcc');
    setOption(p, 'clientId', 'ff00000001');
    expect(clientIdOf(p)).to.equal('ff00000001');
  });

  it('decodes relay agent information (option 82) with link selection', () => {
    const p = request();
    setOption(p, 'relayAgentInfo', [
      { code: 1, data: '657468302f31' },
      { code: 2, data: '0011' },
      { code: 5, data: 'c6120200' },
    ]);
    const rai = relayAgentInfoOf(parseDhcpPacket(serializeDhcpPacket(p)));
    expect(rai).to.deep.include({ circuitId: '657468302f31', remoteId: '0011', linkSelection: '198.18.2.0' });
    expect(rai?.subOptions).to.have.length(3);
  });

  it('reads PXE and iPXE identity (60/93/77/175/97)', () => {
    const p = request();
    setOption(p, 'vendorClass', 'PXEClient:Arch:00009:UNDI:003016');
    expect(pxeClientInfo(p)).to.include({ arch: 9, archName: 'uefi-x86_64', isPxe: true, isIpxe: false });
    setOption(p, 'clientArch', [7]);
    setOption(p, 'userClass', 'iPXE');
    expect(getOption(p, 'userClass')).to.deep.equal(['iPXE']);
    expect(pxeClientInfo(p)).to.include({ arch: 7, isIpxe: true });
    setOption(p, 'userClass', ['a', 'bb']);
    expect(getOption(p, 'userClass')).to.deep.equal(['a', 'bb']);
    setOption(p, 'userClass', undefined);
    setOption(p, 'ipxeEncap', [{ code: 19, data: '01' }]);
    setOption(p, 'clientUuid', '00' + '11'.repeat(16));
    const info = pxeClientInfo(p);
    expect(info.isIpxe).to.equal(true);
    expect(info.uuid).to.equal('00' + '11'.repeat(16));
    setOption(p, 'vendorClass', 'HTTPClient:Arch:00016');
    setOption(p, 'clientArch', [16]);
    expect(pxeClientInfo(p)).to.include({ isHttpBoot: true, archName: 'uefi-x86_64-http' });
  });

  it('encodes PXE vendor options (43) and reads them back', () => {
    const b = encodePxeVendorOptions({ discoveryControl: 8, bootItem: { type: 0x8000, layer: 0 }, prompt: { timeout: 0, text: 'PureBoot' } });
    expect(b[b.length - 1]).to.equal(255);
    expect(decodePxeVendorOptions(b)).to.deep.equal({ discoveryControl: 8, bootItem: { type: 0x8000, layer: 0 }, prompt: { timeout: 0, text: 'PureBoot' } });
  });

  it('round-trips FQDN (81), NDI (94) and classless routes (121)', () => {
    const p = request();
    setOption(p, 'clientFqdn', { flags: 5, rcode1: 0, rcode2: 0, name: 'node1.lab.test' });
    setOption(p, 'clientNdi', { type: 1, major: 3, minor: 16 });
    setOption(p, 'classlessRoutes', [{ destination: '10.0.0.0/8', router: '198.18.1.1' }, { destination: '0.0.0.0/0', router: '198.18.1.254' }]);
    const back = parseDhcpPacket(serializeDhcpPacket(p));
    expect(getOption(back, 81)).to.deep.equal({ flags: 5, rcode1: 0, rcode2: 0, name: 'node1.lab.test' });
    expect(getOption(back, 94)).to.deep.equal({ type: 1, major: 3, minor: 16 });
    expect(getOption(back, 121)).to.deep.equal([{ destination: '10.0.0.0/8', router: '198.18.1.1' }, { destination: '0.0.0.0/0', router: '198.18.1.254' }]);
  });
});
