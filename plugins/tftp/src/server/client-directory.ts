import type { BootEvent, PxeArchName } from '@pureboot/core';

export interface KnownClient {
  mac: string;
  arch?: PxeArchName;
  vendorClass?: string;
  at: number;
}

const ARCH_NAMES: readonly string[] = ['bios', 'uefi-ia32', 'uefi-x86_64', 'uefi-arm32', 'uefi-arm64', 'uefi-x86_64-http', 'uefi-arm64-http', 'unknown'];
const LEARN_KINDS = new Set(['dhcp.ack', 'proxy.ack']);
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * Client IP → MAC (and PXE arch, vendor class), learnt from the DHCP and proxy-DHCP plugins'
 * `dhcp.ack` / `proxy.ack` boot events, so TFTP events can be keyed by MAC and quirk rules can match.
 * Bounded: the oldest entry goes when `capacity` is reached.
 */
export class ClientDirectory {
  private readonly byIp = new Map<string, KnownClient>();
  constructor(private readonly capacity: number) {}

  /** Feed every boot event; only ack events with a MAC and an IPv4 address are remembered. */
  observe(ev: BootEvent): void {
    if (this.capacity <= 0 || !LEARN_KINDS.has(ev.kind)) return;
    const d = (ev.detail ?? {}) as Record<string, unknown>;
    const mac = str(ev.mac)?.toLowerCase();
    const ip = str(d.ip) ?? str(d.address) ?? str(d.yiaddr) ?? str(d.ciaddr) ?? str(ev.address);
    if (!mac || !MAC.test(mac) || !ip || !IPV4.test(ip) || ip === '0.0.0.0') return;
    const pxe = (typeof d.pxe === 'object' && d.pxe !== null ? d.pxe : {}) as Record<string, unknown>;
    const archRaw = str(d.archName) ?? str(d.arch) ?? str(pxe.archName);
    const arch = archRaw && ARCH_NAMES.includes(archRaw) ? (archRaw as PxeArchName) : undefined;
    const vendorClass = str(d.vendorClass) ?? str(pxe.vendorClass);
    this.byIp.delete(ip);
    this.byIp.set(ip, { mac, arch, vendorClass, at: ev.at });
    if (this.byIp.size > this.capacity) {
      const oldest = this.byIp.keys().next().value;
      if (oldest !== undefined) this.byIp.delete(oldest);
    }
  }

  get(ip: string): KnownClient | undefined {
    return this.byIp.get(ip);
  }

  get size(): number {
    return this.byIp.size;
  }
}
