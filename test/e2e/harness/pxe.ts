import { expect } from 'chai';
import { CHAIN_URL, DEFAULT_BOOT_FILES, type BootFileMap, type DhcpMode } from './config';
import { runCase, type CaseOptions, type E2eCase } from './case';
import type { Firmware } from './qemu';
import type { TimelineEvent } from './timeline';

export interface PxeCaseSpec {
  name: string;
  firmware: Firmware;
  mode: Extract<DhcpMode, 'dhcp' | 'proxy'>;
  mac: string;
  bootFiles?: BootFileMap;
  onEvent?: CaseOptions['onEvent'];
  log?: CaseOptions['log'];
}

/** The architecture the boot API records for each firmware (from the chain script's variables). */
export const ARCH_OF: Record<Firmware, string> = { bios: 'i386-pcbios', uefi: 'x86_64-efi' };

/** What the local-boot script of an unknown machine echoes (the start of the line: iPXE wraps at 80 columns). */
export const discoveredMarker = (mac: string): RegExp => new RegExp(`PureBoot: ${mac} is discovered\\b`);

/** The DHCP answers of the case's mode, in timeline order. */
export function answers(c: E2eCase, mode: PxeCaseSpec['mode']): TimelineEvent[] {
  const kinds = mode === 'dhcp' ? ['dhcp.offer', 'dhcp.ack'] : ['proxy.offer', 'proxy.ack'];
  return c.timeline.events.filter((e) => kinds.includes(e.kind));
}

/**
 * One PXE boot of an unknown machine: firmware DHCP (PureBoot's DHCP, or dnsmasq + PureBoot's proxy
 * DHCP) → TFTP of the stage-1 iPXE binary → iPXE asks again and gets the chain URL → HTTP script →
 * the discovered machine's local-boot script. Asserts the serial marker, the machine record and the
 * timeline on PureBoot's side (answers with boot files, the TFTP download with its byte count, the
 * script fetch, in that order).
 */
export async function runPxeCase(spec: PxeCaseSpec): Promise<E2eCase> {
  const bootFiles = spec.bootFiles ?? DEFAULT_BOOT_FILES;
  const stage1 = spec.firmware === 'bios' ? bootFiles.bios : bootFiles.uefi;
  return runCase({ name: spec.name, firmware: spec.firmware, mode: spec.mode, mac: spec.mac, bootFiles, onEvent: spec.onEvent, log: spec.log }, async (c) => {
    const vm = c.boot();
    await c.waitForSerial(vm, discoveredMarker(spec.mac), 'the discovered local-boot script');
    await c.waitForEvent('http.script for the discovered machine', (e) => e.kind === 'http.script');
    await vm.stop();
    await c.timeline.stop();

    const node = await c.node();
    expect(node.state, 'machine state').to.equal('discovered');
    expect(node.arch, 'machine arch').to.equal(ARCH_OF[spec.firmware]);

    const all = answers(c, spec.mode);
    const firstBinary = all.find((e) => e.detail.bootFile === stage1);
    expect(firstBinary, `a ${spec.mode} answer naming ${stage1}\n${c.timeline.events.map((e) => `${e.kind} ${JSON.stringify(e.detail)}`).join('\n')}`).to.not.equal(undefined);
    if (spec.firmware === 'bios') {
      // QEMU's ROM is iPXE (user class iPXE): only the after-tftp policy gives it the binary first.
      expect(firstBinary!.detail.ipxe, 'the ROM identified itself as iPXE and still got the stage-1 binary (after-tftp)').to.equal(true);
    }
    const done = c.timeline.find('tftp.done', (e) => e.detail.path === stage1);
    expect(done, `tftp.done of ${stage1}`).to.not.equal(undefined);
    expect(done!.detail.bytes, `TFTP bytes of ${stage1}`).to.equal(c.staticSizes[stage1]);
    const script = all.find((e) => e.detail.bootFile === CHAIN_URL);
    expect(script, `a ${spec.mode} answer naming the chain URL ${CHAIN_URL} (after the TFTP download)`).to.not.equal(undefined);
    const fetched = c.timeline.find('http.script', (e) => e.detail.state === 'discovered');
    expect(fetched, 'http.script (discovered)').to.not.equal(undefined);
    const seqs = [firstBinary!.seq, done!.seq, script!.seq, fetched!.seq];
    expect(seqs, 'order: binary answer → TFTP done → chain-URL answer → script fetch').to.deep.equal([...seqs].sort((a, b) => a - b));
    // EDK2 aborts a first read after learning the size (tsize): only a missing or denied file is wrong here.
    expect(c.timeline.filter('tftp.failed').filter((e) => e.detail.reason === 'not-found' || e.detail.reason === 'denied'), 'TFTP reads of missing files').to.deep.equal([]);
  });
}
