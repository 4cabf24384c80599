import { expect } from 'chai';
import { getOption, parseDhcpPacket, setOption, type DhcpPacket } from '../../src/codec';
import { golden } from '../codec/golden';
import { clientPacket, DhcpMessageType as M, serverHarness, twoSubnets } from '../support/harness';

type Case = [name: string, make: () => DhcpPacket, bootFile: string | undefined, extra?: { vendorClass?: string; siaddr?: string }];

function pxe(arch: number, vc: string, mac: string, more: Record<string, unknown> = {}): () => DhcpPacket {
  return () => clientPacket(M.DISCOVER, mac, { options: { vendorClass: vc, clientArch: [arch], clientNdi: { type: 1, major: 3, minor: 16 }, ...more } });
}

const SCRIPT = (mac: string) => `http://198.18.1.1:8080/boot/${mac}`;

const cases: Case[] = [
  ['BIOS PXE (arch 0)', pxe(0, 'PXEClient:Arch:00000:UNDI:002001', '02:00:00:01:00:01'), 'bios/undionly.kpxe', { vendorClass: 'PXEClient', siaddr: '198.18.1.1' }],
  ['UEFI x86-64 (arch 7), captured EDK2', () => parseDhcpPacket(golden('edk2-discover')), 'uefi/snponly.efi', { vendorClass: 'PXEClient', siaddr: '198.18.1.1' }],
  ['UEFI x86-64 (arch 9)', pxe(9, 'PXEClient:Arch:00009:UNDI:003016', '02:00:00:01:00:09'), 'uefi/snponly.efi'],
  ['arch from option 60 only (93 missing)', () => clientPacket(M.DISCOVER, '02:00:00:01:00:0a', { options: { vendorClass: 'PXEClient:Arch:00007:UNDI:003016' } }), 'uefi/snponly.efi'],
  ['arm64 UEFI (arch 11)', pxe(11, 'PXEClient:Arch:00011:UNDI:003016', '02:00:00:01:00:0b'), 'arm64/snp.efi'],
  ['UEFI HTTP boot (arch 16)', pxe(16, 'HTTPClient:Arch:00016:UNDI:003016', '02:00:00:01:00:10'), 'http://198.18.1.1:8080/assets/uefi/ipxe.efi', { vendorClass: 'HTTPClient' }],
  ['iPXE by user class, captured BIOS ROM', () => parseDhcpPacket(golden('ipxe-bios-discover')), SCRIPT('52:54:00:12:34:56')],
  ['iPXE by option 175 only', pxe(7, 'PXEClient:Arch:00007:UNDI:003016', '02:00:00:01:00:af', { ipxeEncap: [{ code: 19, data: '01' }] }), SCRIPT('02:00:00:01:00:af')],
  ['a plain client (dhclient) gets no boot file', () => parseDhcpPacket(golden('dhclient-discover')), undefined],
];

describe('dhcp server: PXE boot file by architecture and iPXE detection', () => {
  for (const [name, make, bootFile, extra] of cases) {
    it(`${name} → ${bootFile ?? 'no boot file'}`, async () => {
      const h = serverHarness();
      const [offer] = await h.ask(make());
      expect(offer, 'an OFFER').to.exist;
      expect(getOption(offer.packet, 'bootFile')).to.equal(bootFile);
      if (bootFile && bootFile.length < 128) expect(offer.packet.file).to.equal(bootFile);
      if (extra?.vendorClass) expect(getOption(offer.packet, 'vendorClass')).to.equal(extra.vendorClass);
      if (extra?.siaddr) {
        expect(offer.packet.siaddr).to.equal(extra.siaddr);
        expect(getOption(offer.packet, 'tftpServer')).to.equal(extra.siaddr);
      }
    });
  }

  it('PXE binary answers carry option 43 discovery control 8, so EDK2 boots the file instead of asking 4011', async () => {
    const h = serverHarness();
    for (const make of [() => parseDhcpPacket(golden('edk2-discover')), pxe(0, 'PXEClient:Arch:00000:UNDI:002001', '02:00:00:01:00:43')]) {
      const [offer] = await h.ask(make());
      expect(offer.packet.options.get(43)?.toString('hex'), 'option 43 = sub-option 6 (discovery control) 8, END').to.equal('060108ff');
    }
    const [plain] = await h.ask(parseDhcpPacket(golden('dhclient-discover')));
    expect(plain.packet.options.has(43), 'no PXE options for a plain client').to.equal(false);
  });

  it('echoes option 97 (client UUID) to PXE clients', async () => {
    const h = serverHarness();
    const p = parseDhcpPacket(golden('edk2-discover'));
    setOption(p, 'clientUuid', '00' + '12'.repeat(16));
    const [offer] = await h.ask(p);
    expect(getOption(offer.packet, 'clientUuid')).to.equal('00' + '12'.repeat(16));
  });

  it("ipxeDetection 'after-tftp': the binary until tftp.done was seen for the MAC, then the script URL", async () => {
    const h = serverHarness(twoSubnets({ pxe: { ipxeDetection: 'after-tftp' } }));
    h.hooks.bootEvent.tap('dhcp:after-tftp', (ev) => {
      if (ev.kind === 'tftp.done' && ev.mac) h.server.noteTftpDone(ev.mac);
    });
    const rom = () => parseDhcpPacket(golden('ipxe-bios-discover'));
    const [first] = await h.ask(rom());
    expect(getOption(first.packet, 'bootFile')).to.equal('bios/undionly.kpxe');
    await h.hooks.bootEvent.promise({ mac: '52:54:00:12:34:56', at: Date.now(), source: 'tftp', kind: 'tftp.done', detail: { path: 'bios/undionly.kpxe' } });
    const [second] = await h.ask(rom());
    expect(getOption(second.packet, 'bootFile')).to.equal(SCRIPT('52:54:00:12:34:56'));
  });

  it('a configured scriptUrl template is used for iPXE clients', async () => {
    const h = serverHarness(twoSubnets({ pxe: { scriptUrl: 'http://boot.lab.test/ipxe/${mac}' } }));
    const [offer] = await h.ask(parseDhcpPacket(golden('ipxe-bios-discover')));
    expect(getOption(offer.packet, 'bootFile')).to.equal('http://boot.lab.test/ipxe/52:54:00:12:34:56');
  });
});
