import type { TimelineEvent } from './timeline';

function size(bytes: unknown): string {
  const n = Number(bytes);
  if (!Number.isFinite(n)) return '? bytes';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function ms(v: unknown): string {
  const n = Number(v);
  return Number.isFinite(n) ? `${Math.round(n)} ms` : '';
}

/**
 * One plain-language line for a boot event (the demo's live timeline), or undefined for events a
 * newcomer does not need (TFTP starts, API bookkeeping).
 */
export function narrate(e: TimelineEvent): string | undefined {
  const d = e.detail ?? {};
  const file = d.bootFile === undefined ? undefined : String(d.bootFile);
  const isUrl = file !== undefined && /^https?:\/\//.test(file);
  const who = d.archName ?? d.arch;
  const firmware = who ? ` (firmware: ${String(who)}${d.ipxe ? ', iPXE' : ''})` : '';
  switch (e.kind) {
    case 'dhcp.discover':
      return `DHCP      the machine asks for an address${firmware}`;
    case 'proxy.request':
      return `DHCP      the machine asks for boot information${firmware}`;
    case 'dhcp.offer':
    case 'proxy.offer':
      return `DHCP      offer${d.address ? ` ${String(d.address)}` : ''}: ${isUrl ? `iPXE, fetch the script ${file}` : file ? `boot file ${file} from TFTP ${String(d.nextServer ?? '')}` : 'no boot file'}`;
    case 'dhcp.ack':
    case 'proxy.ack':
      return `DHCP      acknowledged${d.address ? ` ${String(d.address)}` : ''}`;
    case 'tftp.done':
      return `TFTP      sent ${String(d.path)}: ${size(d.bytes)} in ${ms(d.durationMs)} (block size ${String(d.blksize ?? 512)})`;
    case 'tftp.failed':
      if (d.reason === 'client-error') return `TFTP      ${String(d.path)}: the client ended the read (EDK2 first asks only for the size)`;
      return `TFTP      FAILED ${String(d.path)}: ${String(d.reason)}`;
    case 'http.script':
      return `HTTP      iPXE script for state "${String(d.state)}"${d.profile ? ` (profile ${String(d.profile)})` : ''}: ${String(d.kind ?? '')}`;
    case 'http.asset':
      return `HTTP      ${String(d.path)}: ${size(d.bytes)} (HTTP ${String(d.status)})`;
    case 'lifecycle.transition':
      return `STATE     ${String(d.from ?? 'new')} → ${String(d.to)} (${String(d.reason ?? '')})`;
    default:
      if (e.kind.startsWith('callback.')) return `CALLBACK  the installer reports "${e.kind.slice('callback.'.length)}"${d.message ? `: ${String(d.message)}` : ''}`;
      return undefined;
  }
}

/** What the guest shows on its serial console at each stage, for the demo's VM lines. */
export const SERIAL_MILESTONES: Array<{ re: RegExp; say: string }> = [
  { re: /SeaBIOS|BdsDxe|UEFI/, say: 'firmware started' },
  { re: /Start PXE over IPv4|iPXE \(PCI|iPXE initialising/, say: 'network boot (PXE) started' },
  { re: /iPXE 1\.|iPXE \(http:\/\/ipxe\.org\)/, say: 'iPXE running' },
  { re: /PureBoot boot API:/, say: 'iPXE runs PureBoot\'s chain script' },
  { re: /PureBoot: installing profile/, say: 'iPXE runs the install script: loading the kernel and initramfs' },
  { re: /Linux version \d/, say: 'Linux kernel booting' },
  { re: /PUREBOOT-E2E: initramfs started/, say: 'installer (initramfs) started' },
  { re: /PUREBOOT-E2E: network up/, say: 'installer has network' },
  { re: /PUREBOOT-E2E: callback installed sent/, say: 'installer told PureBoot "installed"; powering off' },
];
