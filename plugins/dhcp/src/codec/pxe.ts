import type { PxeArchName, PxeClientInfo } from '@pureboot/core';
import { Opt } from './constants';
import { decodeSubOptions, encodeSubOptions, userClass, type SubOption } from './option-structured';
import { T, ipToBuffer } from './option-types';
import type { DhcpPacket } from './packet';

/** RFC 4578 §2.1 / IANA "Processor Architecture Types" → the names core uses. */
export const ARCH_NAMES: Readonly<Record<number, PxeArchName>> = Object.freeze({
  0: 'bios',
  6: 'uefi-ia32',
  7: 'uefi-x86_64',
  9: 'uefi-x86_64',
  10: 'uefi-arm32',
  11: 'uefi-arm64',
  16: 'uefi-x86_64-http',
  19: 'uefi-arm64-http',
});

export function archName(arch: number | undefined): PxeArchName {
  if (arch === undefined) return 'unknown';
  return ARCH_NAMES[arch] ?? 'unknown';
}

const VENDOR_ARCH = /^(PXEClient|HTTPClient):Arch:(\d{5})/;

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/**
 * What the PXE-related options say about a client: architecture from option 93 (first value),
 * cross-checked with (or, when 93 is absent, taken from) the digits of `PXEClient:Arch:ddddd` in
 * option 60; HTTP boot from `HTTPClient`; iPXE from user class `iPXE` or option 175. Malformed
 * PXE options are treated as absent (this function never throws).
 */
export function pxeClientInfo(p: DhcpPacket): PxeClientInfo {
  const vcRaw = p.options.get(Opt.VENDOR_CLASS);
  const vendorClass = vcRaw && vcRaw.length > 0 ? vcRaw.toString('latin1').replace(/\0+$/, '') : undefined;
  const m = vendorClass ? VENDOR_ARCH.exec(vendorClass) : null;
  const archRaw = p.options.get(Opt.CLIENT_ARCH);
  const archList = archRaw ? safe(() => T.u16s.decode(archRaw, Opt.CLIENT_ARCH)) : undefined;
  let arch = archList?.[0];
  if (arch === undefined && m) arch = Number(m[2]);
  const ucRaw = p.options.get(Opt.USER_CLASS);
  const uc = ucRaw ? safe(() => userClass.decode(ucRaw, Opt.USER_CLASS)) : undefined;
  const isIpxe = (uc?.includes('iPXE') ?? false) || p.options.has(Opt.IPXE_ENCAP);
  const uuidRaw = p.options.get(Opt.CLIENT_UUID);
  const isHttpBoot = m?.[1] === 'HTTPClient' || vendorClass?.startsWith('HTTPClient') === true;
  const info: PxeClientInfo = {
    archName: archName(arch),
    isPxe: vendorClass?.startsWith('PXEClient') === true || isHttpBoot,
    isHttpBoot,
    isIpxe,
  };
  if (arch !== undefined) info.arch = arch;
  if (vendorClass !== undefined) info.vendorClass = vendorClass;
  if (uc) info.userClass = uc;
  if (uuidRaw && uuidRaw.length > 0) info.uuid = uuidRaw.toString('hex');
  return info;
}

/** iPXE feature flags: the sub-option codes present in option 175 (e.g. 19 HTTP, 24 PXE ext, 177 bus id). */
export function ipxeFeatures(p: DhcpPacket): SubOption[] {
  const raw = p.options.get(Opt.IPXE_ENCAP);
  if (!raw) return [];
  return safe(() => decodeSubOptions(raw, Opt.IPXE_ENCAP, true)) ?? [];
}

/** PXE vendor sub-options of option 43 (PXE spec 2.1 §2.4). */
export const PxeSub = Object.freeze({
  DISCOVERY_CONTROL: 6,
  BOOT_SERVERS: 8,
  BOOT_MENU: 9,
  MENU_PROMPT: 10,
  BOOT_ITEM: 71,
} as const);

export interface PxeVendorOptions {
  /** Bit 3 (8) = boot from the file/siaddr fields without discovery; 3 = broadcast + multicast off. */
  discoveryControl?: number;
  bootServers?: Array<{ type: number; addresses: string[] }>;
  menu?: Array<{ type: number; description: string }>;
  prompt?: { timeout: number; text: string };
  bootItem?: { type: number; layer: number };
}

/** Encode PXE option 43 (with the END sub-option, as PXE ROMs expect). */
export function encodePxeVendorOptions(v: PxeVendorOptions): Buffer {
  const subs: SubOption[] = [];
  const hex = (b: Buffer) => b.toString('hex');
  if (v.discoveryControl !== undefined) subs.push({ code: PxeSub.DISCOVERY_CONTROL, data: hex(Buffer.from([v.discoveryControl & 0xff])) });
  if (v.bootServers?.length) {
    const parts: Buffer[] = [];
    for (const s of v.bootServers) {
      const h = Buffer.alloc(3);
      h.writeUInt16BE(s.type);
      h[2] = s.addresses.length;
      parts.push(h, ...s.addresses.map((a) => ipToBuffer(a, 43)));
    }
    subs.push({ code: PxeSub.BOOT_SERVERS, data: hex(Buffer.concat(parts)) });
  }
  if (v.menu?.length) {
    const parts: Buffer[] = [];
    for (const item of v.menu) {
      const desc = Buffer.from(item.description, 'latin1');
      const h = Buffer.alloc(3);
      h.writeUInt16BE(item.type);
      h[2] = desc.length;
      parts.push(h, desc);
    }
    subs.push({ code: PxeSub.BOOT_MENU, data: hex(Buffer.concat(parts)) });
  }
  if (v.prompt) subs.push({ code: PxeSub.MENU_PROMPT, data: hex(Buffer.concat([Buffer.from([v.prompt.timeout & 0xff]), Buffer.from(v.prompt.text, 'latin1')])) });
  if (v.bootItem) {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(v.bootItem.type);
    b.writeUInt16BE(v.bootItem.layer, 2);
    subs.push({ code: PxeSub.BOOT_ITEM, data: hex(b) });
  }
  return encodeSubOptions(subs, 43, true);
}

/** Decode PXE option 43 sub-options (the ones a PXE client sends back: boot item 71). */
export function decodePxeVendorOptions(buf: Buffer): PxeVendorOptions {
  const out: PxeVendorOptions = {};
  for (const s of decodeSubOptions(buf, Opt.VENDOR_SPECIFIC, true)) {
    const d = Buffer.from(s.data, 'hex');
    if (s.code === PxeSub.DISCOVERY_CONTROL && d.length === 1) out.discoveryControl = d[0];
    else if (s.code === PxeSub.BOOT_ITEM && d.length === 4) out.bootItem = { type: d.readUInt16BE(0), layer: d.readUInt16BE(2) };
    else if (s.code === PxeSub.MENU_PROMPT && d.length >= 1) out.prompt = { timeout: d[0], text: d.toString('latin1', 1) };
  }
  return out;
}
