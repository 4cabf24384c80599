import { expect } from 'chai';
import type { PxeClientInfo } from '@pureboot/core';
import { TftpDoneTracker } from '../src/ipxe-tracker';
import { matchRule } from '../src/rules';

describe('proxy-dhcp: after-tftp memory and client rules', () => {
  it('tftp.done counts for its MAC within the window; an event with only an address is mapped through learned addresses', () => {
    const t = new TftpDoneTracker(60_000, 2);
    t.markDone(1000, '52:54:00:AA:BB:01');
    expect(t.downloaded('52:54:00:aa:bb:01', 1000 + 60_000)).to.equal(true);
    expect(t.downloaded('52:54:00:aa:bb:01', 1000 + 60_001)).to.equal(false);
    expect(t.markDone(5000, undefined, '198.18.3.120')).to.equal(undefined);
    t.learnAddress('198.18.3.120', '52:54:00:aa:bb:02');
    expect(t.markDone(5000, undefined, '198.18.3.120')).to.equal('52:54:00:aa:bb:02');
    expect(t.downloaded('52:54:00:aa:bb:02', 6000)).to.equal(true);
    // Bounded: the oldest entry goes.
    t.markDone(7000, '52:54:00:aa:bb:03');
    expect(t.downloaded('52:54:00:aa:bb:01', 7000)).to.equal(false);
  });

  it('rules: every given field must match; the first matching rule wins', () => {
    const pxe = (arch: number, archName: PxeClientInfo['archName'], vendorClass: string): PxeClientInfo => ({ arch, archName, vendorClass, isPxe: true, isHttpBoot: false, isIpxe: false });
    const rules = [
      { name: 'a', match: { macPrefix: '52-54-00-BB', arch: 7 } },
      { name: 'b', match: { vendorClass: 'PXEClient:Arch:00000:UNDI:002001' } },
      { name: 'c', match: { arch: 'uefi-arm64' as const } },
      { name: 'd', match: { macPrefix: '5254' } },
    ];
    expect(matchRule(rules, { mac: '52:54:00:bb:00:01', pxe: pxe(7, 'uefi-x86_64', 'PXEClient:Arch:00007') })?.name).to.equal('a');
    expect(matchRule(rules, { mac: '52:54:00:bb:00:01', pxe: pxe(0, 'bios', 'PXEClient:Arch:00000:UNDI:002001') })?.name).to.equal('b');
    expect(matchRule(rules, { mac: '00:11:22:33:44:55', pxe: pxe(11, 'uefi-arm64', 'PXEClient:Arch:00011') })?.name).to.equal('c');
    expect(matchRule(rules, { mac: '52:54:00:cc:00:01', pxe: pxe(7, 'uefi-x86_64', 'PXEClient:Arch:00007') })?.name).to.equal('d');
    expect(matchRule(rules, { mac: '00:11:22:33:44:55', pxe: pxe(7, 'uefi-x86_64', 'PXEClient:Arch:00007') })).to.equal(undefined);
  });
});
