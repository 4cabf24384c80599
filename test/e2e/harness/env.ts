import fs from 'node:fs';
import path from 'node:path';
import { isRoot, missingTools } from '@pureboot/core/testing';

/** Repository root (test/e2e/harness → ../../..). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Firmware and guest files the cases use, from Debian packages. */
export const FILES = {
  undionly: '/usr/lib/ipxe/undionly.kpxe',
  snponly: '/usr/lib/ipxe/snponly.efi',
  ipxeEfi: '/usr/lib/ipxe/ipxe.efi',
  e1000Rom: '/usr/lib/ipxe/qemu/efi-e1000.rom',
  ovmfCode: '/usr/share/OVMF/OVMF_CODE.fd',
  ovmfVars: '/usr/share/OVMF/OVMF_VARS.fd',
  busybox: '/bin/busybox',
} as const;

/** Commands the harness runs. */
export const TOOLS = ['ip', 'qemu-system-x86_64', 'tcpdump', 'dnsmasq', 'cpio', 'gzip', 'timeout'];

export interface Requirement {
  what: string;
  install: string;
}

/** The newest Debian kernel in /boot with its module tree, or undefined. */
export function findKernel(): { version: string; vmlinuz: string; modules: string } | undefined {
  let names: string[] = [];
  try {
    names = fs.readdirSync('/boot').filter((n) => n.startsWith('vmlinuz-'));
  } catch {
    return undefined;
  }
  const versions = names.map((n) => n.slice('vmlinuz-'.length)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  for (const version of versions.reverse()) {
    const vmlinuz = `/boot/vmlinuz-${version}`;
    const modules = `/lib/modules/${version}`;
    try {
      fs.accessSync(vmlinuz, fs.constants.R_OK);
      fs.accessSync(path.join(modules, 'modules.dep'), fs.constants.R_OK);
      return { version, vmlinuz, modules };
    } catch {
      /* try the next one */
    }
  }
  return undefined;
}

function statically(file: string): boolean {
  try {
    const head = fs.readFileSync(file).subarray(0, 1 << 20);
    // A dynamically linked ELF names its interpreter (PT_INTERP) near the start.
    return head.subarray(0, 4).toString('latin1') === '\x7fELF' && !head.includes(Buffer.from('/lib64/ld-linux'));
  } catch {
    return false;
  }
}

/**
 * Everything the end-to-end suite needs, with the command that installs it (Debian). An empty list
 * means the suite can run.
 */
export function missingRequirements(): Requirement[] {
  const out: Requirement[] = [];
  if (!isRoot()) out.push({ what: 'root (network namespaces, tap devices, ports 67/69)', install: 'run as root, e.g. sudo npm run demo' });
  const pkgOf: Record<string, string> = {
    ip: 'iproute2',
    'qemu-system-x86_64': 'qemu-system-x86',
    tcpdump: 'tcpdump',
    dnsmasq: 'dnsmasq',
    cpio: 'cpio',
    gzip: 'gzip',
    timeout: 'coreutils',
  };
  for (const t of missingTools(TOOLS)) out.push({ what: `command ${t}`, install: `apt-get install -y ${pkgOf[t] ?? t}` });
  const filePkg: Record<string, string> = {
    undionly: 'ipxe',
    snponly: 'ipxe',
    ipxeEfi: 'ipxe',
    e1000Rom: 'ipxe-qemu',
    ovmfCode: 'ovmf',
    ovmfVars: 'ovmf',
    busybox: 'busybox-static',
  };
  for (const [key, file] of Object.entries(FILES)) {
    if (!fs.existsSync(file)) out.push({ what: file, install: `apt-get install -y ${filePkg[key]}` });
  }
  if (fs.existsSync(FILES.busybox) && !statically(FILES.busybox)) out.push({ what: `${FILES.busybox} must be statically linked`, install: 'apt-get install -y busybox-static' });
  if (!findKernel()) out.push({ what: 'a Linux kernel in /boot/vmlinuz-* with /lib/modules/<version>', install: 'apt-get install -y linux-image-amd64' });
  return out;
}

/** Root folder for artifacts: $PUREBOOT_ARTIFACTS or <repo>/.artifacts; e2e cases write under e2e/<case>/. */
export function artifactsRoot(): string {
  return path.resolve(process.env.PUREBOOT_ARTIFACTS ?? path.join(REPO_ROOT, '.artifacts'), 'e2e');
}
