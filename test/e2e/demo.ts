/**
 * `npm run demo`: one machine boots in QEMU through PureBoot while a live timeline is printed —
 * DHCP offer → TFTP → iPXE script → kernel → installed. It uses the end-to-end harness (its own
 * network namespaces; nothing on the host's network is touched) and cleans everything up.
 *
 *   npm run demo                       BIOS machine, PureBoot as the DHCP server
 *   npm run demo -- --proxy            dnsmasq hands out addresses, PureBoot runs proxy DHCP
 *   npm run demo -- --uefi             OVMF (UEFI) instead of SeaBIOS
 *   PUREBOOT_E2E_KEEP=1 npm run demo   keep the serial log, PureBoot's log and the pcap in .artifacts/e2e/demo
 */
import path from 'node:path';
import { closeOpenCases, E2eFailure, runCase, type E2eCase } from './harness/case';
import type { DhcpMode } from './harness/config';
import { findKernel, missingRequirements } from './harness/env';
import { buildInitramfs } from './harness/initramfs';
import { narrate, SERIAL_MILESTONES } from './harness/narrate';
import type { Firmware, Vm } from './harness/qemu';

const MAC = '52:54:00:64:02:01';
const PROFILE = 'demo-linux';

const args = process.argv.slice(2);
const firmware: Firmware = args.includes('--uefi') ? 'uefi' : 'bios';
const mode: DhcpMode = args.includes('--proxy') ? 'proxy' : 'dhcp';
const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const say = (who: string, line: string) => process.stdout.write(`${stamp()}  ${who.padEnd(9)} ${line}\n`);

function usage(): never {
  process.stdout.write('usage: npm run demo [-- --uefi] [-- --proxy]\n');
  process.exit(64);
}

/** Print the VM's serial-console milestones as they appear, until stopped. */
function followSerial(vm: Vm): () => void {
  const seen = new Set<number>();
  const timer = setInterval(() => {
    const text = vm.serial();
    SERIAL_MILESTONES.forEach((m, i) => {
      if (!seen.has(i) && m.re.test(text)) {
        seen.add(i);
        say('VM', m.say);
      }
    });
  }, 250);
  return () => clearInterval(timer);
}

async function body(c: E2eCase): Promise<void> {
  await c.pureboot.api('POST', '/api/v1/nodes', { mac: MAC, state: 'pending', profile: PROFILE });
  say('API', `registered ${MAC} as pending with profile ${PROFILE} (POST /api/v1/nodes)`);
  const vm = c.boot('demo');
  say('QEMU', `${firmware === 'bios' ? 'SeaBIOS + iPXE ROM (e1000)' : 'OVMF + EDK2 PXE (virtio-net)'} powered on, booting from the network (software emulation: this takes a minute)`);
  const stop = followSerial(vm);
  try {
    await c.waitForSerial(vm, /PUREBOOT-E2E: callback installed sent|PUREBOOT-E2E: callback failed/, 'the installer callback');
    await c.waitForEvent('the machine reaching installed', (e) => e.kind === 'lifecycle.transition' && e.detail.to === 'installed', 20000);
    await vm.waitForExit(30000).catch(() => undefined);
  } finally {
    stop();
  }
  const node = await c.node();
  say('RESULT', `${MAC} is ${node.state}: ${node.history.map((h) => h.to).join(' → ')}`);
}

async function main(): Promise<void> {
  if (args.some((a) => !['--uefi', '--proxy'].includes(a))) usage();
  process.stdout.write(`PureBoot demo: a ${firmware.toUpperCase()} machine boots over the network (${mode === 'dhcp' ? 'PureBoot is the DHCP server' : 'dnsmasq + PureBoot proxy DHCP'})\n\n`);
  const missing = missingRequirements();
  if (missing.length) {
    process.stdout.write('The demo needs root, qemu-system-x86, ipxe, ovmf, a Linux kernel and busybox-static. Missing here:\n');
    for (const m of missing) process.stdout.write(`  - ${m.what}\n      fix: ${m.install}\n`);
    const pkgs = [...new Set(missing.filter((m) => m.install.startsWith('apt-get')).map((m) => m.install.replace('apt-get install -y ', '')))];
    if (pkgs.length) process.stdout.write(`\nAll at once (Debian/Ubuntu): sudo apt-get update && sudo apt-get install -y ${pkgs.join(' ')}\n`);
    process.exitCode = 2;
    return;
  }
  const kernel = findKernel()!;
  const timelineSeen = new Set<number>();
  try {
    await runCase(
      {
        name: 'demo',
        firmware,
        mode,
        mac: MAC,
        profiles: { [PROFILE]: { description: 'demo: Debian kernel + busybox installer that calls back', kernel: 'demo/vmlinuz', initrds: ['demo/initramfs.gz'], cmdline: 'console=ttyS0,115200n8 panic=-1' } },
        prepare: async (c) => {
          const initrd = await buildInitramfs(path.join(c.dir, 'initramfs.gz'));
          say('SETUP', `installer initramfs built from busybox-static (${(initrd.size / 1024).toFixed(0)} KiB), kernel ${kernel.version}`);
          return { 'demo/vmlinuz': kernel.vmlinuz, 'demo/initramfs.gz': initrd.file };
        },
        log: (m) => {
          if (!m.startsWith('serial:') && !m.startsWith('QEMU')) say('SETUP', m);
        },
        onEvent: (e) => {
          if (timelineSeen.has(e.seq)) return;
          timelineSeen.add(e.seq);
          const line = narrate(e);
          if (line) {
            const [who, ...rest] = line.split(/\s{2,}/);
            say(who, rest.join(' '));
          }
        },
      },
      body,
    );
    process.stdout.write(`\nDone in ${((Date.now() - t0) / 1000).toFixed(0)} s. Everything the demo started is stopped and its namespaces are gone.\n`);
  } catch (err) {
    if (err instanceof E2eFailure) process.stdout.write(`\nThe demo boot failed:\n${err.message}\n`);
    else process.stdout.write(`\nThe demo failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

// Ctrl-C: stop QEMU, PureBoot and dnsmasq by PID and delete the namespaces before leaving.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stdout.write(`\n${sig}: stopping everything the demo started…\n`);
    void closeOpenCases().finally(() => process.exit(130));
  });
}

void main();
