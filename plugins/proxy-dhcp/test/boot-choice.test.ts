import { expect } from 'chai';
import type { PxeArchName, PxeClientInfo } from '@pureboot/core';
import { chooseBoot, fillTemplate } from '../src/boot-choice';
import { proxyOptions } from './helpers';

function pxe(arch: number | undefined, archName: PxeArchName, extra: Partial<PxeClientInfo> = {}): PxeClientInfo {
  return { arch, archName, isPxe: true, isHttpBoot: false, isIpxe: false, vendorClass: `PXEClient:Arch:${String(arch ?? 0).padStart(5, '0')}`, ...extra };
}
const MAC = '52:54:00:aa:bb:01';

describe('proxy-dhcp: boot choice by architecture, iPXE policy, strategy, rules', () => {
  const o = proxyOptions();
  const table: Array<{ name: string; info: PxeClientInfo; type?: 'DISCOVER' | 'REQUEST'; file: string | undefined; vendor: string | null }> = [
    { name: 'BIOS PXE ROM', info: pxe(0, 'bios'), file: 'bios/undionly.kpxe', vendor: '060108ff' },
    { name: 'UEFI x86-64 (7)', info: pxe(7, 'uefi-x86_64'), file: 'uefi/snponly.efi', vendor: '060108ff' },
    { name: 'UEFI x86-64 (9)', info: pxe(9, 'uefi-x86_64'), file: 'uefi/snponly.efi', vendor: '060108ff' },
    { name: 'UEFI arm64 (11)', info: pxe(11, 'uefi-arm64'), file: 'uefi/arm64/snp.efi', vendor: '060108ff' },
    { name: 'UEFI HTTP boot x86-64 (16)', info: pxe(16, 'uefi-x86_64-http', { isHttpBoot: true, vendorClass: 'HTTPClient:Arch:00016' }), file: 'http://198.18.3.1:8080/api/v1/assets/uefi/snponly.efi', vendor: null },
    { name: 'iPXE by user class', info: pxe(0, 'bios', { isIpxe: true, userClass: ['iPXE'] }), file: 'http://198.18.3.1:8080/api/v1/ipxe/boot.ipxe', vendor: '060108ff' },
    { name: 'iPXE by option 175 only (EFI)', info: pxe(7, 'uefi-x86_64', { isIpxe: true }), file: 'http://198.18.3.1:8080/api/v1/ipxe/boot.ipxe', vendor: '060108ff' },
  ];
  for (const t of table) {
    it(`${t.name} → ${t.file}`, () => {
      const c = chooseBoot({ mac: MAC, messageType: t.type ?? 'DISCOVER', pxe: t.info, tftpDone: false }, o);
      expect(c.action).to.equal('answer');
      if (c.action !== 'answer') return;
      expect(c.bootFile).to.equal(t.file);
      expect(c.nextServer).to.equal('198.18.3.1');
      expect(c.vendor === null ? null : c.vendor.toString('hex')).to.equal(t.vendor);
    });
  }

  it('an architecture without a boot file is ignored with the reason', () => {
    const c = chooseBoot({ mac: MAC, messageType: 'DISCOVER', pxe: pxe(6, 'uefi-ia32'), tftpDone: false }, o);
    expect(c).to.deep.equal({ action: 'ignore', reason: 'no boot file for architecture uefi-ia32 (6)' });
  });

  it("after-tftp: an iPXE client gets the binary until tftp.done was seen, then the script", () => {
    const a = proxyOptions({ ipxeDetection: 'after-tftp' });
    const info = pxe(0, 'bios', { isIpxe: true, userClass: ['iPXE'] });
    const before = chooseBoot({ mac: MAC, messageType: 'DISCOVER', pxe: info, tftpDone: false }, a);
    const after = chooseBoot({ mac: MAC, messageType: 'DISCOVER', pxe: info, tftpDone: true }, a);
    expect(before.action === 'answer' && before.bootFile).to.equal('bios/undionly.kpxe');
    expect(after.action === 'answer' && after.bootFile).to.equal('http://198.18.3.1:8080/api/v1/ipxe/boot.ipxe');
  });

  it("boot-server strategy (Pixiecore's): UEFI offer names no file and has no option 43; the 4011 ACK names the file", () => {
    const b = proxyOptions({ uefiStrategy: 'boot-server' });
    const offer = chooseBoot({ mac: MAC, messageType: 'DISCOVER', pxe: pxe(7, 'uefi-x86_64'), tftpDone: false }, b);
    const ack = chooseBoot({ mac: MAC, messageType: 'REQUEST', pxe: pxe(7, 'uefi-x86_64'), tftpDone: false }, b);
    expect(offer).to.include({ action: 'answer', bootFile: undefined, vendor: null, kind: 'boot-server' });
    expect(ack).to.include({ action: 'answer', bootFile: 'uefi/snponly.efi', vendor: null });
    // BIOS is not affected by the UEFI strategy.
    const bios = chooseBoot({ mac: MAC, messageType: 'DISCOVER', pxe: pxe(0, 'bios'), tftpDone: false }, b);
    expect(bios.action === 'answer' && bios.bootFile).to.equal('bios/undionly.kpxe');
  });

  it('client rules: first match by MAC prefix / vendor class / arch picks strategy, boot file or ignore', () => {
    const r = proxyOptions({
      rules: [
        { name: 'quirky-nic', match: { macPrefix: '52-54-00-AA' }, uefiStrategy: 'boot-server', delayMs: 500 },
        { match: { arch: 'uefi-arm64' }, bootFile: 'arm/{mac}.efi' },
        { match: { vendorClass: 'PXEClient:Arch:00000:UNDI:002001' }, ignore: true },
      ],
    });
    const uefi = chooseBoot({ mac: MAC, messageType: 'DISCOVER', pxe: pxe(7, 'uefi-x86_64'), tftpDone: false, rule: r.rules[0] }, r);
    expect(uefi).to.include({ kind: 'boot-server', bootFile: undefined });
    const arm = chooseBoot({ mac: '00:11:22:33:44:55', messageType: 'DISCOVER', pxe: pxe(11, 'uefi-arm64'), tftpDone: false, rule: r.rules[1] }, r);
    expect(arm.action === 'answer' && arm.bootFile).to.equal('arm/00:11:22:33:44:55.efi');
    const ign = chooseBoot({ mac: MAC, messageType: 'DISCOVER', pxe: pxe(0, 'bios'), tftpDone: false, rule: r.rules[2] }, r);
    expect(ign.action).to.equal('ignore');
  });

  it('a boot menu: BIOS offer carries discovery control 3, boot servers, menu and prompt; the 4011 choice gets its file and item echoed', () => {
    const m = proxyOptions({ menu: { prompt: 'PureBoot', timeoutSec: 4, items: [{ type: 0, description: 'Local' }, { type: 0x8001, description: 'Install', bootFile: 'bios/install.kpxe' }] } });
    const offer = chooseBoot({ mac: MAC, messageType: 'DISCOVER', pxe: pxe(0, 'bios'), tftpDone: false }, m);
    expect(offer.action).to.equal('answer');
    if (offer.action !== 'answer') return;
    expect(offer.bootFile).to.equal(undefined);
    // 6: 03 | 8: type 8001, 1 server, 198.18.3.1 | 9: 0000 "Local", 8001 "Install" | 10: 04 "PureBoot" | ff
    const expected =
      '060103' + '0807' + '8001' + '01' + 'c6120301' + '0912' + '0000' + '05' + Buffer.from('Local').toString('hex') + '8001' + '07' + Buffer.from('Install').toString('hex') + '0a09' + '04' + Buffer.from('PureBoot').toString('hex') + 'ff';
    expect(offer.vendor?.toString('hex')).to.equal(expected);
    const ack = chooseBoot({ mac: MAC, messageType: 'REQUEST', pxe: pxe(0, 'bios'), tftpDone: false, bootItem: { type: 0x8001, layer: 0 } }, m);
    expect(ack).to.include({ bootFile: 'bios/install.kpxe' });
    expect(ack.action === 'answer' && ack.vendor?.toString('hex')).to.equal('4704800100 00ff'.replace(/ /g, ''));
    const unknown = chooseBoot({ mac: MAC, messageType: 'REQUEST', pxe: pxe(0, 'bios'), tftpDone: false, bootItem: { type: 7, layer: 0 } }, m);
    expect(unknown.action).to.equal('ignore');
  });

  it('fills {server}, {httpPort} and {mac} in templates', () => {
    expect(fillTemplate('http://{server}:${httpPort}/boot/{mac}', proxyOptions({ httpPort: 9000 }), MAC)).to.equal('http://198.18.3.1:9000/boot/52:54:00:aa:bb:01');
  });
});
