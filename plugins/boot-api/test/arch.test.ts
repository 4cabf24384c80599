import { expect } from 'chai';
import { normaliseArch } from '../src/arch';
import { machineInfo, smbiosUuid } from '../src/boot-flow';

describe('boot-api machine values from the boot query', () => {
  it('normaliseArch: iPXE pairs, PXE names, buildarch + platform, and unknown for anything else', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ arch: 'x86_64-efi' }, 'x86_64-efi'],
      [{ arch: 'I386-PCBIOS' }, 'i386-pcbios'],
      [{ arch: 'arm64-efi' }, 'arm64-efi'],
      [{ arch: 'loong64-efi' }, 'loong64-efi'],
      [{ arch: 'bios' }, 'i386-pcbios'],
      [{ arch: 'uefi-x86_64-http' }, 'x86_64-efi'],
      [{ arch: 'UEFI-ARM64' }, 'arm64-efi'],
      [{ arch: 'x86_64', platform: 'efi' }, 'x86_64-efi'],
      [{ arch: 'x86_64', platform: 'efi', buildarch: 'i386' }, 'x86_64-efi'],
      [{ buildarch: 'i386', platform: 'pcbios' }, 'i386-pcbios'],
      [{ arch: 'sparc-efi', buildarch: 'arm64', platform: 'efi' }, 'arm64-efi'],
      [{ platform: 'pcbios' }, 'i386-pcbios'],
      [{ platform: 'efi' }, 'unknown'],
      [{ arch: 'sparc-efi' }, 'unknown'],
      [{ arch: 'x86_64-efi ' }, 'unknown'],
      [{ arch: 'x86_64' }, 'unknown'],
      [{ arch: 'constructor' }, 'unknown'],
      [{ arch: '__proto__' }, 'unknown'],
      [{ arch: 'toString', platform: 'efi' }, 'unknown'],
      [{}, 'unknown'],
    ];
    for (const [q, want] of cases) expect(normaliseArch(q), JSON.stringify(q)).to.equal(want);
  });

  it('smbiosUuid: 32–36 hex digits and hyphens, lower-cased', () => {
    expect(smbiosUuid('0AB1C2D3-E4F5-4A6B-8C7D-9E0F1A2B3C4D')).to.equal('0ab1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d');
    expect(smbiosUuid('0ab1c2d3e4f54a6b8c7d9e0f1a2b3c4d')).to.equal('0ab1c2d3e4f54a6b8c7d9e0f1a2b3c4d');
    for (const bad of ['0ab1c2d3e4f54a6b8c7d9e0f1a2b3c4', '0ab1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d0', 'g0b1c2d3e4f54a6b8c7d9e0f1a2b3c4d', '0ab1c2d3 e4f5 4a6b 8c7d 9e0f1a2b3c4d', '0ab1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4\u00e9', '']) {
      expect(smbiosUuid(bad), JSON.stringify(bad)).to.equal(undefined);
    }
  });

  it('machineInfo: well-formed values only, whether or not the record holds others', () => {
    const q = { ip: '198.18.0.7', uuid: '0AB1C2D3-E4F5-4A6B-8C7D-9E0F1A2B3C4D', serial: 'SN1', hostname: 'web-01' };
    const want = { ip: '198.18.0.7', uuid: '0ab1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d', serial: 'SN1', hostname: 'web-01' };
    expect(machineInfo(q, '127.0.0.1')).to.deep.equal(want);
    expect(machineInfo(q, '127.0.0.1', want)).to.deep.equal(want);
    expect(machineInfo({ ...q, uuid: want.uuid }, '127.0.0.1', want)).to.deep.equal(want);
    const hostile = { ip: '1.2.3.4 || shell', uuid: '${net0/mac}0000000000000000000000' };
    for (const stored of [{}, want]) {
      expect(machineInfo(hostile, '198.18.0.9', stored)).to.deep.equal({ ip: '198.18.0.9' });
      expect(machineInfo({ ip: '0.0.0.0' }, '::1', stored)).to.deep.equal({});
    }
  });
});
